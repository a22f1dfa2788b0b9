using System.Text;
using MailAuth.Core.Authentication;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sasl;
using MailAuth.Server.Sessions;

namespace MailAuth.Server.Smtp.Commands;

/// <summary>
/// AUTH (RFC 4954) with PLAIN and LOGIN: the mailbox address and its password, checked by the one
/// mail authenticator, which logs the attempt. Every failure reason gets the same 535.
/// </summary>
internal sealed class AuthCommand(TlsContext tls, MailAuthenticator authenticator, MailboxSessions sessions) : SmtpCommandHandler
{
    public override async ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        if (!SmtpCommandParser.TryParseAuth(argument, out var command, out var syntax))
        {
            session.Reply(syntax!.Reply);
            return SmtpAction.Continue;
        }
        if (!tls.AllowsPlaintextAuthentication(session.Connection))
        {
            session.Reply("538 5.7.11 Encryption required for requested authentication mechanism");
            return SmtpAction.Continue;
        }
        var mechanism = SaslMechanism.Create(command!.Mechanism);
        if (mechanism is null)
        {
            session.Reply("504 5.5.4 Unrecognized authentication mechanism");
            return SmtpAction.Continue;
        }

        byte[]? initialResponse = null;
        if (command.InitialResponse is not null)
        {
            var decoded = SaslConversation.Decode(Encoding.ASCII.GetBytes(command.InitialResponse));
            switch (decoded.Kind)
            {
                case SaslReplyKind.Cancelled:
                    session.Reply("501 5.7.0 Authentication cancelled");
                    return SmtpAction.Continue;
                case SaslReplyKind.Malformed:
                    session.Reply("501 5.5.2 Invalid base64 data");
                    return SmtpAction.Continue;
            }
            initialResponse = decoded.Data;
        }

        var lineTooLong = false;
        var outcome = await SaslConversation.RunAsync(mechanism, initialResponse, async (challenge, token) =>
        {
            session.Reply("334 " + SaslConversation.Encode(challenge));
            if (!await session.Connection.FlushAsync(token))
            {
                return new SaslReply(SaslReplyKind.Disconnected, []);
            }
            // Still before login: an over-long line ends the connection, as between commands.
            var line = await session.Connection.ReadLineAsync(session.Options.MaxLineLength, session.IdleTimeout, OverlongLine.Stop, token);
            lineTooLong = line.Status == LineStatus.TooLong;
            return line.Status == LineStatus.Line ? SaslConversation.Decode(line.Line) : new SaslReply(SaslReplyKind.Disconnected, []);
        }, cancellationToken);

        switch (outcome.Kind)
        {
            case SaslOutcomeKind.Cancelled:
                session.Reply("501 5.7.0 Authentication cancelled");
                return SmtpAction.Continue;
            case SaslOutcomeKind.Disconnected when lineTooLong:
                // Any over-long line before login ends the connection, so 421 (RFC 5321 §3.8) rather
                // than the 500 5.5.6 of RFC 4954 §6, which would tell the client it may go on.
                session.Reply("421 4.7.0 Authentication exchange line is too long, closing connection");
                return SmtpAction.Close;
            case SaslOutcomeKind.Disconnected:
                return SmtpAction.Close;
            case SaslOutcomeKind.Malformed when outcome.Error == "invalid base64":
                session.Reply("501 5.5.2 Invalid base64 data");
                return SmtpAction.Continue;
            case SaslOutcomeKind.Malformed:
                // A well-formed base64 line whose content breaks the mechanism (no NULs in PLAIN,
                // another authorization identity): counted as a failed attempt like a wrong password.
                session.Reply("535 5.7.8 Authentication credentials invalid");
                return CountFailure(session);
        }

        var credentials = outcome.Credentials!;
        var result = await authenticator.AuthenticateAsync(
            credentials.Username,
            credentials.Password,
            new ClientContext(LoginChannel.Smtp, mechanism.Name, session.Connection.RemoteAddress, session.Connection.IsSecure),
            cancellationToken);
        switch (result.Status)
        {
            case AuthenticationStatus.Succeeded:
                var mailbox = await sessions.OpenAsync(result.Address!, result.ChangeLogPosition, cancellationToken);
                if (mailbox.IsEnded)
                {
                    // The credential this login verified was changed since: never a usable session.
                    session.Reply($"421 4.7.0 {mailbox.Reason.ClientText()}, closing connection");
                    mailbox.Dispose();
                    return SmtpAction.Close;
                }
                session.LoggedIn(mailbox);
                session.Reply("235 2.7.0 Authentication successful");
                return SmtpAction.Continue;
            case AuthenticationStatus.TemporarilyUnavailable:
                session.Reply("454 4.7.0 Temporary authentication failure");
                return SmtpAction.Continue;
            default:
                session.Reply("535 5.7.8 Authentication credentials invalid");
                return CountFailure(session);
        }
    }

    private static SmtpAction CountFailure(SmtpSession session)
    {
        session.FailedAuthentications++;
        if (session.FailedAuthentications < session.Options.MaxFailedAuthentications)
        {
            return SmtpAction.Continue;
        }
        session.Reply("421 4.7.0 Too many failed authentications, closing connection");
        return SmtpAction.Close;
    }
}
