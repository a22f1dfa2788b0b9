namespace MailAuth.Server.Smtp.Commands;

/// <summary>QUIT (RFC 5321 §4.1.1.10).</summary>
internal sealed class QuitCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.Reply(SmtpReply.Closing(session.HostName));
        return ValueTask.FromResult(SmtpAction.Close);
    }
}
