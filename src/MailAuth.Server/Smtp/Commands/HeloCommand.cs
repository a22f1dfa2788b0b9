namespace MailAuth.Server.Smtp.Commands;

/// <summary>HELO: the pre-ESMTP greeting, still sent by some scripts.</summary>
internal sealed class HeloCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        var name = argument.Trim();
        if (name.Length == 0 || name.Contains(' ', StringComparison.Ordinal) || name.Any(char.IsControl))
        {
            session.Reply(SmtpReply.SyntaxHelo);
            return ValueTask.FromResult(SmtpAction.Continue);
        }
        EhloCommand.Greet(session, name);
        session.Reply(SmtpReply.HeloGreeting(session.HostName));
        return ValueTask.FromResult(SmtpAction.Continue);
    }
}
