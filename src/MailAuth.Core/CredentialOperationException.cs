namespace MailAuth.Core;

/// <summary>
/// Why an operation was refused, so that each front end answers a kind of refusal one way (the
/// web's statuses, the CLI's exit codes) without reading messages.
/// </summary>
public enum CredentialRefusal
{
    /// <summary>Malformed input or refused by a policy (an address, a phone number, a password): fix it and resend.</summary>
    InvalidInput,

    /// <summary>Unknown or wrong credentials (password, 2FA code, reset token): one reason for all, so nothing tells which.</summary>
    FailedCredentials,

    /// <summary>The caller may not do this (no permission, an account in recovery or not in recovery).</summary>
    NotAllowed,

    /// <summary>What was named does not exist.</summary>
    NotFound,

    /// <summary>The stored state stands in the way (already exists, an identifier already used).</summary>
    Conflict,

    /// <summary>Too many attempts or requests from this client or for this name: try again later.</summary>
    Throttled,

    /// <summary>The server cannot do it now (the hashing pool is full): try again shortly.</summary>
    Busy,
}

/// <summary>
/// An operation refused for a reason the caller should see as is (unknown domain, duplicate
/// mailbox, malformed address, empty password, …), with its kind (<see cref="Refusal"/>) and, for
/// throttled or busy, how long to wait when Core knows it. Never carries a secret.
/// </summary>
public class CredentialOperationException(string message, CredentialRefusal reason = CredentialRefusal.InvalidInput, TimeSpan? retryAfter = null)
    : Exception(message)
{
    public CredentialRefusal Refusal { get; } = reason;

    public TimeSpan? RetryAfter { get; } = retryAfter;
}
