using System.Net;
using MailAuth.Core.Addresses;

namespace MailAuth.Core.Authentication;

/// <summary>The front end a login came through.</summary>
public enum LoginChannel
{
    Imap,
    Smtp,

    /// <summary>The Dovecot-protocol auth service that Postfix asks.</summary>
    SaslService,

    /// <summary>nginx's mail proxy (auth_http), for an IMAP, POP3 or SMTP client.</summary>
    AuthHttpImap,
    AuthHttpPop3,
    AuthHttpSmtp,

    /// <summary>The admin's <c>auth test</c>.</summary>
    Cli,

    /// <summary>The web listener: a holder proving a mailbox password (issue 16's test, the Apple profile).</summary>
    Web,
}

internal static class LoginChannelNames
{
    /// <summary>The <c>protocol=</c> word of the auth log line (README, "Log format"); stable for log parsers.</summary>
    public static string LogName(this LoginChannel channel) => channel switch
    {
        LoginChannel.Imap => "imap",
        LoginChannel.Smtp => "smtp",
        LoginChannel.SaslService => "sasl-service",
        LoginChannel.AuthHttpImap => "auth-http-imap",
        LoginChannel.AuthHttpPop3 => "auth-http-pop3",
        LoginChannel.AuthHttpSmtp => "auth-http-smtp",
        LoginChannel.Cli => "cli",
        LoginChannel.Web => "web",
        _ => channel.ToString().ToLowerInvariant(),
    };
}

/// <summary>Who is logging in, from where and how; used for the log and the throttle.</summary>
public sealed record ClientContext(LoginChannel Channel, string Mechanism, IPAddress RemoteAddress, bool IsSecure)
{
    /// <summary>
    /// False when <see cref="RemoteAddress"/> was reported by a local caller (Postfix's <c>rip</c>,
    /// nginx's <c>Client-IP</c>) rather than seen on a socket: a caller could report a trusted
    /// address, so <c>TrustedNetworks</c> then exempt nothing unless configured for that caller.
    /// </summary>
    public bool TrustedNetworksApply { get; init; } = true;
}

public enum AuthenticationStatus
{
    Succeeded,
    Failed,

    /// <summary>The server is too busy to verify now; the client should retry (IMAP NO [UNAVAILABLE], SMTP 454).</summary>
    TemporarilyUnavailable,
}

/// <summary>Why a login failed. For the log only: clients always get the same answer.</summary>
public enum AuthenticationFailure
{
    None,
    MalformedAddress,
    UnknownAddress,
    WrongPassword,
    Disabled,
    PasswordTooLong,
    Busy,

    /// <summary>The store did not answer (PostgreSQL down or unreachable): a temporary failure, never a wrong password.</summary>
    StoreUnavailable,

    /// <summary>Refused before verification: too many recent failures (see <see cref="FailureThrottle"/>).</summary>
    Throttled,
}

/// <summary>
/// The outcome of a login. On success, <see cref="ChangeLogPosition"/> is the mailbox change log
/// position of the credential that was verified: a session opened by this login must end at any
/// later change of the mailbox that ends sessions (see <see cref="Mailboxes.IMailboxChangeFeed"/>).
/// </summary>
public sealed record AuthenticationResult(AuthenticationStatus Status, EmailAddress? Address, AuthenticationFailure Failure, long ChangeLogPosition = 0)
{
    public bool Succeeded => Status == AuthenticationStatus.Succeeded;
}
