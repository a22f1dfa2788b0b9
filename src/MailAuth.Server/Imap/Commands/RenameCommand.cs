using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>RENAME (§6.3.5), sub-folders included; renaming INBOX is not supported.</summary>
internal sealed class RenameCommand : IImapCommand
{
    public string Name => "RENAME";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var from = arguments.ReadMailbox();
        arguments.ExpectSpace();
        var to = arguments.ReadMailbox();
        arguments.ExpectEnd();
        var store = session.RequireStore();
        if (from == MaildirStore.Inbox)
        {
            session.Tagged(tag, ImapStatus.No, "Renaming INBOX is not supported; move the messages instead", "CANNOT");
        }
        else if (!store.Exists(from))
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "NONEXISTENT");
        }
        else if (FolderNames.CheckNew(to) is { } problem)
        {
            session.Tagged(tag, ImapStatus.No, problem, "CANNOT");
        }
        else if (store.Exists(to) || store.HasChildren(to) || to.StartsWith(from + MaildirStore.Delimiter, StringComparison.Ordinal))
        {
            session.Tagged(tag, ImapStatus.No, "The new name is in use", "ALREADYEXISTS");
        }
        else
        {
            if (session.Selected?.Name == from)
            {
                session.Deselect();
            }
            store.Rename(from, to);
            session.Tagged(tag, ImapStatus.Ok, "RENAME completed");
        }
        return Task.CompletedTask;
    }
}
