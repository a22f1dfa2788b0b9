namespace MailAuth.Server.Smtp.Commands;

/// <summary>RSET (RFC 5321 §4.1.1.5): drops the envelope, keeps EHLO and the login.</summary>
internal sealed class RsetCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.ResetTransaction();
        session.Reply(SmtpReply.Ok);
        return ValueTask.FromResult(SmtpAction.Continue);
    }
}
