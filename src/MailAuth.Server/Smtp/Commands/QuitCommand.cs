namespace MailAuth.Server.Smtp.Commands;

/// <summary>QUIT (RFC 5321 §4.1.1.10).</summary>
internal sealed class QuitCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.Reply($"221 2.0.0 {session.HostName} closing connection");
        return ValueTask.FromResult(SmtpAction.Close);
    }
}
