using System.Diagnostics;
using System.Text;
using MailAuth.Core.Authentication;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sasl;
using MailAuth.Server.Sessions;

namespace MailAuth.Server.Smtp.Commands;

/// <summary>What the AUTH handler does after its reply, besides sending it.</summary>
internal enum SmtpAuthEffect
{
    None,

    /// <summary>One more failed attempt: at the limit, 421 and the connection closes.</summary>
    CountFailure,

    /// <summary>The connection closes after the replies so far.</summary>
    Close,
}

/// <summary>The reply to an AUTH outcome (null: none), and what follows it.</summary>
internal readonly record struct SmtpAuthReply(string? Line, SmtpAuthEffect Effect);

/// <summary>
/// AUTH (RFC 4954) with PLAIN and LOGIN: the mailbox address and its password, checked by the one
/// mail authenticator, which logs the attempt. Every failure reason gets the same 535.
/// </summary>
internal sealed class AuthCommand(TlsContext tls, MailAuthenticator authenticator, MailboxSessions sessions) : SmtpCommandHandler
{
    private readonly SaslLogin _login = new(authenticator);

    public override async ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        if (!SmtpCommandParser.TryParseAuth(argument, out var command, out var syntax))
        {
            session.Reply(syntax!.Reply);
            return SmtpAction.Continue;
        }
        if (!tls.AllowsPlaintextAuthentication(session.Connection))
        {
            session.Reply(SmtpReply.EncryptionRequired);
            return SmtpAction.Continue;
        }
        var mechanism = SaslMechanism.Create(command!.Mechanism);
        if (mechanism is null)
        {
            session.Reply(SmtpReply.UnrecognizedMechanism);
            return SmtpAction.Continue;
        }

        var client = new ClientContext(LoginChannel.Smtp, mechanism.Name, session.Connection.RemoteAddress, session.Connection.IsSecure);
        byte[]? initialResponse = null;
        SaslLoginOutcome? refusal = null;
        if (command.InitialResponse is not null
            && SaslLogin.TryDecodeInitialResponse(Encoding.ASCII.GetBytes(command.InitialResponse), out var decoded, out refusal))
        {
            initialResponse = decoded;
        }
        var outcome = refusal ?? await _login.RunAsync(mechanism, initialResponse, async (challenge, token) =>
        {
            session.Reply(SmtpReply.AuthChallenge(SaslConversation.Encode(challenge)));
            if (!await session.Connection.FlushAsync(token))
            {
                return new SaslReply(SaslReplyKind.Disconnected, []);
            }
            // Still before login: an over-long line ends the connection, as between commands.
            var line = await session.Connection.ReadLineAsync(session.Options.MaxLineLength, session.IdleTimeout, OverlongLine.Stop, token);
            return line.Status switch
            {
                LineStatus.Line => SaslConversation.Decode(line.Line),
                LineStatus.TooLong => new SaslReply(SaslReplyKind.LineTooLong, []),
                _ => new SaslReply(SaslReplyKind.Disconnected, []),
            };
        }, client, cancellationToken);

        if (outcome is SaslLoginOutcome.Succeeded succeeded)
        {
            var mailbox = await sessions.OpenAsync(succeeded.Address, succeeded.ChangeLogPosition, cancellationToken);
            if (mailbox.IsEnded)
            {
                // The credential this login verified was changed since: never a usable session.
                session.Reply(SmtpReply.SessionEnded(mailbox.Reason.ClientText()));
                mailbox.Dispose();
                return SmtpAction.Close;
            }
            session.LoggedIn(mailbox);
        }
        var reply = Reply(outcome);
        if (reply.Line is not null)
        {
            session.Reply(reply.Line);
        }
        return reply.Effect switch
        {
            SmtpAuthEffect.CountFailure => CountFailure(session),
            SmtpAuthEffect.Close => SmtpAction.Close,
            _ => SmtpAction.Continue,
        };
    }

    /// <summary>The reply table: every failure reason gets the same 535.</summary>
    public static SmtpAuthReply Reply(SaslLoginOutcome outcome) => outcome switch
    {
        SaslLoginOutcome.Succeeded => new(SmtpReply.AuthenticationSuccessful, SmtpAuthEffect.None),
        SaslLoginOutcome.Busy => new(SmtpReply.TemporaryAuthenticationFailure, SmtpAuthEffect.None),
        SaslLoginOutcome.Failed => new(SmtpReply.AuthenticationInvalid, SmtpAuthEffect.CountFailure),
        SaslLoginOutcome.Cancelled => new(SmtpReply.AuthenticationCancelled, SmtpAuthEffect.None),
        SaslLoginOutcome.Malformed { Malformation.Reason: SaslMalformedReason.InitialResponseNotBase64 or SaslMalformedReason.ResponseNotBase64 } =>
            new(SmtpReply.InvalidBase64, SmtpAuthEffect.None),
        // A well-formed base64 line whose content breaks the mechanism (no NULs in PLAIN,
        // another authorization identity): counted as a failed attempt like a wrong password.
        SaslLoginOutcome.Malformed => new(SmtpReply.AuthenticationInvalid, SmtpAuthEffect.CountFailure),
        // Any over-long line before login ends the connection, so 421 (RFC 5321 §3.8) rather
        // than the 500 5.5.6 of RFC 4954 §6, which would tell the client it may go on.
        SaslLoginOutcome.LineTooLong => new(SmtpReply.AuthenticationLineTooLong, SmtpAuthEffect.Close),
        SaslLoginOutcome.Disconnected => new(null, SmtpAuthEffect.Close),
        _ => throw new UnreachableException($"no SMTP reply for {outcome}"),
    };

    private static SmtpAction CountFailure(SmtpSession session)
    {
        session.FailedAuthentications++;
        if (session.FailedAuthentications < session.Options.MaxFailedAuthentications)
        {
            return SmtpAction.Continue;
        }
        session.Reply(SmtpReply.TooManyFailedAuthentications);
        return SmtpAction.Close;
    }
}
