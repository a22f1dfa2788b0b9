using MailAuth.Server.Protocol;

namespace MailAuth.Server.Smtp.Commands;

/// <summary>STARTTLS (RFC 3207).</summary>
internal sealed class StartTlsCommand(TlsContext tls) : SmtpCommandHandler
{
    public override async ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        if (argument.Trim().Length > 0)
        {
            session.Reply(SmtpReply.SyntaxStartTls);
            return SmtpAction.Continue;
        }
        if (session.Connection.IsSecure)
        {
            session.Reply(SmtpReply.TlsAlreadyActive);
            return SmtpAction.Continue;
        }
        session.Reply(SmtpReply.ReadyToStartTls);
        if (!await session.Connection.FlushAsync(cancellationToken))
        {
            return SmtpAction.Close;
        }
        var outcome = await session.Connection.StartTlsAsync(
            tls.ServerOptions, session.Options.TlsHandshakeTimeout, cancellationToken);
        if (outcome != StartTlsOutcome.Secure)
        {
            // PlaintextInjected: commands sent after STARTTLS but before the handshake could have
            // been injected by a man in the middle (CVE-2011-0411); nothing more is read.
            return SmtpAction.Close;
        }
        session.ForgetEverything();
        return SmtpAction.Continue;
    }
}
