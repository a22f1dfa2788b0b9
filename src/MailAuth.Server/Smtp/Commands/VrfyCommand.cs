namespace MailAuth.Server.Smtp.Commands;

/// <summary>
/// VRFY (RFC 5321 §3.5.3): 252 whatever the argument, so that it can never be used to find out
/// which mailboxes exist.
/// </summary>
internal sealed class VrfyCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.Reply(argument.Trim().Length == 0
            ? SmtpReply.SyntaxVrfy
            : SmtpReply.CannotVerify);
        return ValueTask.FromResult(SmtpAction.Continue);
    }
}
