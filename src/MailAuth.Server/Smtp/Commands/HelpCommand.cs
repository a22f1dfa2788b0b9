namespace MailAuth.Server.Smtp.Commands;

/// <summary>HELP (RFC 5321 §4.1.1.8).</summary>
internal sealed class HelpCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.Reply(SmtpReply.HelpCommands);
        session.Reply(SmtpReply.HelpLogin);
        return ValueTask.FromResult(SmtpAction.Continue);
    }
}
