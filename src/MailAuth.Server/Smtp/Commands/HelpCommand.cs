namespace MailAuth.Server.Smtp.Commands;

/// <summary>HELP (RFC 5321 §4.1.1.8).</summary>
internal sealed class HelpCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.Reply("214-2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP VRFY HELP QUIT");
        session.Reply("214 2.0.0 Log in with your full mailbox address and its password");
        return ValueTask.FromResult(SmtpAction.Continue);
    }
}
