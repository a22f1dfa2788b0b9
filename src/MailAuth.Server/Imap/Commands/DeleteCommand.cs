using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>DELETE (§6.3.4): refused for INBOX and for a folder with sub-folders.</summary>
internal sealed class DeleteCommand : IImapCommand
{
    public string Name => "DELETE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectEnd();
        var store = session.RequireStore();
        if (name == MaildirStore.Inbox)
        {
            session.Tagged(tag, ImapStatus.No, "INBOX cannot be deleted", "CANNOT");
        }
        else if (!store.Exists(name))
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "NONEXISTENT");
        }
        else if (store.HasChildren(name))
        {
            session.Tagged(tag, ImapStatus.No, "Delete the sub-folders first", "INUSE");
        }
        else
        {
            if (session.Selected?.Name == name)
            {
                session.Deselect();
            }
            store.Delete(name);
            session.Tagged(tag, ImapStatus.Ok, "DELETE completed");
        }
        return Task.CompletedTask;
    }
}
