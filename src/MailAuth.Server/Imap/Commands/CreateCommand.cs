using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>CREATE (§6.3.3).</summary>
internal sealed class CreateCommand : IImapCommand
{
    public string Name => "CREATE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox().TrimEnd(MaildirStore.Delimiter); // "a.b." means "a.b" that will have children
        arguments.ExpectEnd();
        var store = session.RequireStore();
        if (FolderNames.CheckNew(name) is { } problem)
        {
            session.Tagged(tag, ImapStatus.No, problem, "CANNOT");
        }
        else if (store.Exists(name))
        {
            session.Tagged(tag, ImapStatus.No, "Folder already exists", "ALREADYEXISTS");
        }
        else
        {
            store.Create(name);
            session.Tagged(tag, ImapStatus.Ok, "CREATE completed");
        }
        return Task.CompletedTask;
    }
}
