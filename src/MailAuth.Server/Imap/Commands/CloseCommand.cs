using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>CLOSE (§6.4.2): expunges \Deleted messages silently (unless read-only) and deselects.</summary>
internal sealed class CloseCommand : IImapCommand
{
    public string Name => "CLOSE";

    public bool SendsUpdatesAfter => false;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        var selected = session.RequireSelected();
        if (!selected.ReadOnly)
        {
            selected.Folder.Expunge(m => m.Flags.HasFlag(MessageFlags.Deleted));
        }
        session.Deselect();
        session.Tagged(tag, ImapStatus.Ok, "CLOSE completed");
        return Task.CompletedTask;
    }
}
