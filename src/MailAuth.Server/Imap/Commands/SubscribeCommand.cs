using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>SUBSCRIBE and UNSUBSCRIBE (§6.3.6, §6.3.7).</summary>
internal sealed class SubscribeCommand(bool subscribe) : IImapCommand
{
    public string Name => subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectEnd();
        var store = session.RequireStore();
        if (!MaildirStore.IsValid(name) || (subscribe && !store.Exists(name)))
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "NONEXISTENT");
            return Task.CompletedTask;
        }
        store.Subscribe(name, subscribe);
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }
}
