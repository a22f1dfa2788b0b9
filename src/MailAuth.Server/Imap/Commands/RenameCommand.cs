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
            session.Tagged(tag, $"NO [CANNOT] Renaming INBOX is not supported; move the messages instead");
        }
        else if (!store.Exists(from))
        {
            session.Tagged(tag, $"NO [NONEXISTENT] No such folder");
        }
        else if (FolderNames.CheckNew(to) is { } problem)
        {
            session.Tagged(tag, $"NO [CANNOT] {problem}");
        }
        else if (store.Exists(to) || store.HasChildren(to) || to.StartsWith(from + MaildirStore.Delimiter, StringComparison.Ordinal))
        {
            session.Tagged(tag, $"NO [ALREADYEXISTS] The new name is in use");
        }
        else
        {
            if (session.Selected?.Name == from)
            {
                session.Deselect();
            }
            store.Rename(from, to);
            session.Tagged(tag, $"OK RENAME completed");
        }
        return Task.CompletedTask;
    }
}
