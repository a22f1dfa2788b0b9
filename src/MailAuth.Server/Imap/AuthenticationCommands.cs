using System.Text;
using MailAuth.Core.Authentication;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Imap;

/// <summary>STARTTLS (RFC 3501 §6.2.1, RFC 2595).</summary>
internal sealed class StartTlsCommand : IImapCommand
{
    public string Name => "STARTTLS";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        if (session.Connection.IsSecure)
        {
            session.Write($"{tag} BAD TLS is already active\r\n");
            return;
        }
        session.Write($"{tag} OK Begin TLS negotiation now\r\n");
        if (!await session.FlushAsync(cancellationToken))
        {
            session.Closing = true;
            return;
        }
        var outcome = await session.Connection.StartTlsAsync(
            session.Tls.ServerOptions, session.Options.TlsHandshakeTimeout, cancellationToken);
        // Commands sent in plaintext before the handshake may have been injected by an attacker
        // (CVE-2011-0411); after a failed handshake the stream is unusable. Either way: close.
        if (outcome != StartTlsOutcome.Secure)
        {
            session.Closing = true;
        }
    }
}

/// <summary>Shared by LOGIN and AUTHENTICATE: the Core authenticator, the answers of RFC 5530, the failure limit.</summary>
internal static class ImapLogin
{
    /// <summary>False (after answering NO [PRIVACYREQUIRED]) when passwords may not cross this connection in clear.</summary>
    public static bool CheckPrivacy(ImapSession session, string tag)
    {
        if (session.AllowsPlaintextAuthentication)
        {
            return true;
        }
        session.Write($"{tag} NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) before logging in\r\n");
        return false;
    }

    public static async Task AuthenticateAsync(ImapSession session, string tag, string username, string password, string mechanism, CancellationToken cancellationToken)
    {
        var context = new ClientContext(LoginChannel.Imap, mechanism, session.Connection.RemoteAddress, session.Connection.IsSecure);
        var result = await session.Authenticator.AuthenticateAsync(username, password, context, cancellationToken);
        switch (result.Status)
        {
            case AuthenticationStatus.Succeeded:
                if (!await session.LoggedInAsync(result.Address!, result.ChangeLogPosition, cancellationToken))
                {
                    break;
                }
                session.Write($"{tag} OK [CAPABILITY {session.Capabilities()}] Logged in\r\n");
                break;
            case AuthenticationStatus.TemporarilyUnavailable:
                session.Write($"{tag} NO [UNAVAILABLE] The server is busy, try again shortly\r\n");
                break;
            default:
                session.Write($"{tag} NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
                Failed(session);
                break;
        }
    }

    /// <summary>Counts a failure; at the limit the connection ends with BYE.</summary>
    public static void Failed(ImapSession session)
    {
        if (++session.FailedAuthentications >= session.Options.MaxFailedAuthentications)
        {
            session.Write("* BYE Too many failed logins\r\n");
            session.Closing = true;
        }
    }
}

/// <summary>LOGIN user password (§6.2.3); quoted strings and literals ({n} and {n+}) alike.</summary>
internal sealed class LoginCommand : IImapCommand
{
    public string Name => "LOGIN";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var username = arguments.ReadAString();
        arguments.ExpectSpace();
        var password = arguments.ReadAString();
        arguments.ExpectEnd();
        if (ImapLogin.CheckPrivacy(session, tag))
        {
            await ImapLogin.AuthenticateAsync(session, tag, username, password, "LOGIN-command", cancellationToken);
        }
    }
}

/// <summary>AUTHENTICATE mechanism [initial-response] (§6.2.2, RFC 4959 SASL-IR).</summary>
internal sealed class AuthenticateCommand : IImapCommand
{
    public string Name => "AUTHENTICATE";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadAtom();
        byte[]? initial = null;
        if (arguments.TryConsume(' '))
        {
            var text = arguments.ReadWhile(c => c is > 0x20 and < 0x7f);
            var decoded = SaslConversation.Decode(Encoding.ASCII.GetBytes(text));
            if (decoded.Kind != SaslReplyKind.Response)
            {
                arguments.ExpectEnd();
                session.Write(decoded.Kind == SaslReplyKind.Cancelled
                    ? $"{tag} BAD Authentication cancelled\r\n"
                    : $"{tag} BAD Invalid base64 in the initial response\r\n");
                return;
            }
            initial = decoded.Data;
        }
        arguments.ExpectEnd();
        var mechanism = SaslMechanism.Create(name);
        if (mechanism is null)
        {
            session.Write($"{tag} NO Unsupported authentication mechanism, use one of {string.Join(' ', SaslMechanism.Names)}\r\n");
            return;
        }
        if (!ImapLogin.CheckPrivacy(session, tag))
        {
            return;
        }
        var outcome = await SaslConversation.RunAsync(mechanism, initial, async (challenge, ct) =>
        {
            session.Write($"+ {SaslConversation.Encode(challenge)}\r\n");
            if (!await session.FlushAsync(ct))
            {
                return new SaslReply(SaslReplyKind.Disconnected, []);
            }
            var line = await session.ReadContinuationLineAsync(ct);
            return line is not null ? SaslConversation.Decode(line) : new SaslReply(SaslReplyKind.Disconnected, []);
        }, cancellationToken);
        switch (outcome.Kind)
        {
            case SaslOutcomeKind.Credentials:
                await ImapLogin.AuthenticateAsync(session, tag, outcome.Credentials!.Username, outcome.Credentials.Password, mechanism.Name, cancellationToken);
                break;
            case SaslOutcomeKind.Cancelled:
                session.Write($"{tag} BAD Authentication cancelled\r\n");
                break;
            case SaslOutcomeKind.Malformed:
                session.Write($"{tag} BAD {outcome.Error}\r\n");
                break;
            default:
                session.Closing = true;
                break;
        }
    }
}
