using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>LOGOUT (§6.1.3).</summary>
internal sealed class LogoutCommand : IImapCommand
{
    public string Name => "LOGOUT";

    public bool SendsUpdatesAfter => false;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Write($"* BYE MailAuth logging out\r\n");
        session.Tagged(tag, ImapStatus.Ok, "LOGOUT completed");
        session.Logout();
        session.Closing = true;
        return Task.CompletedTask;
    }
}
