using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>SEARCH and UID SEARCH (§6.4.4).</summary>
internal sealed class SearchCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID SEARCH" : "SEARCH";

    public bool AllowsExpungeUpdates => byUid;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        if (arguments.TryConsumeWord("CHARSET"))
        {
            arguments.ExpectSpace();
            var charset = arguments.ReadAString();
            arguments.ExpectSpace();
            if (!charset.Equals("UTF-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("US-ASCII", StringComparison.OrdinalIgnoreCase))
            {
                session.Tagged(tag, ImapStatus.No, "Unsupported charset", "BADCHARSET (US-ASCII UTF-8)");
                return Task.CompletedTask;
            }
        }
        var key = SearchKey.ParseProgram(arguments, session.Options.MaxSearchKeys);
        var selected = session.RequireSelected();
        var budget = new SearchBudget(session.Options.MaxSearchTime);
        var matches = new List<uint>();
        ulong highestModSeq = 0;
        var largestUid = selected.Count == 0 ? 0 : selected.Uids[^1];
        for (var i = 0; i < selected.Count; i++)
        {
            budget.Check();
            var uid = selected.Uids[i];
            if (selected.Message(uid) is not { } message)
            {
                continue;
            }
            var candidate = new SearchCandidate(selected.Folder, message, (uint)(i + 1), (uint)selected.Count, largestUid, selected.IsRecent(uid), budget);
            if (candidate.Matches(key))
            {
                matches.Add(byUid ? uid : (uint)(i + 1));
                highestModSeq = Math.Max(highestModSeq, message.ModSeq);
            }
        }
        var numbers = matches.Count == 0 ? "" : " " + string.Join(' ', matches);
        // RFC 7162 §3.1.5: a search by MODSEQ ends with the highest mod-sequence of the matches (none when nothing matched).
        var modSeq = SearchKey.UsesModSeq(key) && matches.Count > 0 ? $" (MODSEQ {highestModSeq})" : "";
        if (SearchKey.UsesModSeq(key))
        {
            session.EnableCondstore();
        }
        session.Write($"* SEARCH{numbers}{modSeq}\r\n");
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }
}
