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
        var foldedTexts = SearchKey.FoldedTexts(key);
        var matches = new List<uint>();
        var largestUid = selected.Count == 0 ? 0 : selected.Uids[^1];
        for (var i = 0; i < selected.Count; i++)
        {
            budget.Check();
            var uid = selected.Uids[i];
            if (selected.Message(uid) is not { } message)
            {
                continue;
            }
            var candidate = new SearchCandidate(selected.Folder, message, (uint)(i + 1), (uint)selected.Count, largestUid, selected.IsRecent(uid), budget, foldedTexts);
            if (candidate.Matches(key))
            {
                matches.Add(byUid ? uid : (uint)(i + 1));
            }
        }
        var numbers = matches.Count == 0 ? "" : " " + string.Join(' ', matches);
        session.Write($"* SEARCH{numbers}\r\n");
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }
}
