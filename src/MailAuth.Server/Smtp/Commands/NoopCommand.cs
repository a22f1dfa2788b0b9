namespace MailAuth.Server.Smtp.Commands;

/// <summary>NOOP (RFC 5321 §4.1.1.9).</summary>
internal sealed class NoopCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.Reply(SmtpReply.Ok);
        return ValueTask.FromResult(SmtpAction.Continue);
    }
}
