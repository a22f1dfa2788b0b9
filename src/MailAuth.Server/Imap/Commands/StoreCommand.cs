using System.Text;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// STORE and UID STORE (RFC 3501 §6.4.6): FLAGS, +FLAGS, -FLAGS, each optionally .SILENT, with
/// system flags and keywords; the UNCHANGEDSINCE modifier of CONDSTORE (RFC 7162 §3.1.3).
/// </summary>
internal sealed class StoreCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID STORE" : "STORE";

    public bool AllowsExpungeUpdates => byUid;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var set = arguments.ReadSequenceSet();
        arguments.ExpectSpace();
        ulong? unchangedSince = null;
        if (arguments.TryConsume('('))
        {
            if (!arguments.TryConsumeWord("UNCHANGEDSINCE"))
            {
                throw new ImapSyntaxException("expected UNCHANGEDSINCE");
            }
            arguments.ExpectSpace();
            unchangedSince = arguments.ReadModSeq(allowZero: true);
            arguments.Expect(')');
            arguments.ExpectSpace();
            session.EnableCondstore(); // a CONDSTORE enabling command (RFC 7162 §3.1)
        }
        var item = arguments.ReadAtom().ToUpperInvariant();
        var silent = item.EndsWith(".SILENT", StringComparison.Ordinal);
        var mode = silent ? item[..^".SILENT".Length] : item;
        var operation = mode switch
        {
            "FLAGS" => FlagOperation.Replace,
            "+FLAGS" => FlagOperation.Add,
            "-FLAGS" => FlagOperation.Remove,
            _ => throw new ImapSyntaxException($"expected FLAGS, +FLAGS or -FLAGS, not '{ImapSession.Sanitize(item)}'"),
        };
        arguments.ExpectSpace();
        var names = arguments.ReadFlags();
        arguments.ExpectEnd();
        var change = Parse(names, operation);
        var selected = session.RequireSelected();
        if (selected.ReadOnly)
        {
            session.Tagged(tag, ImapStatus.No, "The folder is open read-only (EXAMINE)", "READ-ONLY");
            return Task.CompletedTask;
        }
        var indexes = selected.Resolve(set, byUid);
        var position = indexes.ToDictionary(i => selected.Uids[i], i => i);
        var result = selected.Folder.Store(position.Keys, change, unchangedSince);
        selected.AnnounceKeywords(session); // FLAGS names a new keyword before a FETCH shows it
        var output = new StringBuilder();
        foreach (var message in result.Messages)
        {
            selected.Reported(message);
            if (!silent)
            {
                output.Append($"* {position[message.Uid] + 1} FETCH (FLAGS {selected.FlagsOf(message)}");
                output.Append(byUid || session.CondstoreEnabled ? $" UID {message.Uid}" : "");
                output.Append(SelectedFolder.ModSeqItem(session, message) + ")\r\n");
            }
            else if (session.CondstoreEnabled)
            {
                // RFC 7162 §3.1.3 example 7: even .SILENT reports the new mod-sequence.
                output.Append($"* {position[message.Uid] + 1} FETCH (UID {message.Uid} MODSEQ ({message.ModSeq}))\r\n");
            }
        }
        session.Write(output.ToString());
        if (result.Modified.Count > 0)
        {
            var modified = byUid ? result.Modified : [.. result.Modified.Select(uid => (uint)position[uid] + 1).Order()];
            session.Tagged(tag, ImapStatus.Ok, "Conditional STORE failed for some messages", $"MODIFIED {SequenceSet.Format(modified)}");
            return Task.CompletedTask;
        }
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }

    private static FlagChange Parse(List<string> names, FlagOperation operation)
    {
        var flags = MessageFlags.None;
        var keywords = new List<string>();
        foreach (var name in names)
        {
            if (name.Equals(@"\Recent", StringComparison.OrdinalIgnoreCase))
            {
                throw new ImapSyntaxException(@"\Recent cannot be stored");
            }
            if (name.StartsWith('\\'))
            {
                var system = MaildirFlags.FromImap(name);
                flags |= system != MessageFlags.None ? system : throw new ImapSyntaxException($"unknown system flag '{ImapSession.Sanitize(name)}'");
            }
            else if (!KeywordMap.IsKeyword(name))
            {
                throw new ImapSyntaxException($"keyword '{ImapSession.Sanitize(name)}' is longer than {KeywordMap.MaxKeywordLength} characters");
            }
            else if (!keywords.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                keywords.Add(name);
            }
        }
        return new FlagChange(operation, flags, keywords);
    }
}
