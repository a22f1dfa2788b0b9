using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>STATUS (§6.3.10).</summary>
internal sealed class StatusCommand : IImapCommand
{
    public string Name => "STATUS";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectSpace();
        arguments.Expect('(');
        var items = new List<string>();
        do
        {
            items.Add(arguments.ReadAtom().ToUpperInvariant());
        }
        while (arguments.TryConsume(' '));
        arguments.Expect(')');
        arguments.ExpectEnd();
        var folder = session.RequireStore().Open(name);
        if (folder is null)
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "NONEXISTENT");
            return Task.CompletedTask;
        }
        if (items.Contains("HIGHESTMODSEQ"))
        {
            session.EnableCondstore(); // a CONDSTORE enabling command (RFC 7162 §3.1)
        }
        var snapshot = folder.Synchronize(rescan: true);
        var values = new List<string>();
        foreach (var item in items)
        {
            values.Add(item switch
            {
                "MESSAGES" => $"MESSAGES {snapshot.Messages.Count}",
                "RECENT" => $"RECENT {folder.UnclaimedRecentCount}",
                "UIDNEXT" => $"UIDNEXT {snapshot.UidNext}",
                "UIDVALIDITY" => $"UIDVALIDITY {snapshot.UidValidity}",
                "UNSEEN" => $"UNSEEN {snapshot.Messages.Count(m => !m.Flags.HasFlag(MessageFlags.Seen))}",
                "HIGHESTMODSEQ" => $"HIGHESTMODSEQ {snapshot.HighestModSeq}", // RFC 7162 §3.1.6
                _ => throw new ImapSyntaxException($"unknown STATUS item '{ImapSession.Sanitize(item)}'"),
            });
        }
        session.Write($"* STATUS {ImapFormat.AString(name)} ({string.Join(' ', values)})\r\n");
        session.Tagged(tag, ImapStatus.Ok, "STATUS completed");
        return Task.CompletedTask;
    }
}
