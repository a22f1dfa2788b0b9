using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>EXPUNGE (§6.4.3) and UID EXPUNGE (RFC 4315).</summary>
internal sealed class ExpungeCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID EXPUNGE" : "EXPUNGE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        SequenceSet? set = null;
        if (byUid)
        {
            arguments.ExpectSpace();
            set = arguments.ReadSequenceSet();
        }
        arguments.ExpectEnd();
        var selected = session.RequireSelected();
        if (selected.ReadOnly)
        {
            session.Tagged(tag, ImapStatus.No, "The folder is open read-only (EXAMINE)", "READ-ONLY");
            return Task.CompletedTask;
        }
        var largest = selected.Count == 0 ? 0 : selected.Uids[^1];
        selected.Folder.Expunge(m => m.Flags.HasFlag(MessageFlags.Deleted) && (set is null || set.Contains(m.Uid, largest)));
        selected.WriteUpdates(session, allowExpunge: true);
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }
}
