using System.Net;
using MailAuth.Core.Addresses;

namespace MailAuth.Core.Authentication;

/// <summary>Who is logging in, from where and how; used for the log and (later) throttling.</summary>
public sealed record ClientContext(string Protocol, string Mechanism, IPAddress RemoteAddress, bool IsSecure);

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

    /// <summary>Refused before verification: too many recent failures (see <see cref="FailureThrottle"/>).</summary>
    Throttled,
}

public sealed record AuthenticationResult(AuthenticationStatus Status, EmailAddress? Address, AuthenticationFailure Failure)
{
    public bool Succeeded => Status == AuthenticationStatus.Succeeded;
}
