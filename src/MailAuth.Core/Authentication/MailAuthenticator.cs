using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Passwords;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Authentication;

/// <summary>
/// The one mail login check, shared by IMAP, SMTP and <c>auth test</c>: mailbox address and mailbox
/// password, nothing else. Every failure looks and costs the same: an unknown or malformed address
/// is verified against a dummy hash, a disabled mailbox against its real hash. A throttled attempt
/// costs no hashing at all; a repeat of a recently verified password costs one HMAC.
/// </summary>
public sealed partial class MailAuthenticator
{
    private readonly IMailboxCredentialStore _store;
    private readonly IPasswordHasher _hasher;
    private readonly HashingPool _pool;
    private readonly FailureThrottle _throttle;
    private readonly VerifiedLoginCache _cache;
    private readonly SharedVerifications _shared = new();

    internal SharedVerifications SharedVerifications => _shared;
    private readonly ILogger<MailAuthenticator> _logger;

    public MailAuthenticator(
        IMailboxCredentialStore store,
        IPasswordHasher hasher,
        HashingPool pool,
        FailureThrottle throttle,
        VerifiedLoginCache cache,
        ILogger<MailAuthenticator> logger)
    {
        _store = store;
        _hasher = hasher;
        _pool = pool;
        _throttle = throttle;
        _cache = cache;
        _logger = logger;
    }

    /// <summary>Without throttling or cache: every attempt runs Argon2.</summary>
    public MailAuthenticator(IMailboxCredentialStore store, IPasswordHasher hasher, HashingPool pool, ILogger<MailAuthenticator> logger)
        : this(store, hasher, pool, FailureThrottle.Unlimited, VerifiedLoginCache.Disabled, logger)
    {
    }

    public async Task<AuthenticationResult> AuthenticateAsync(
        string address, string password, ClientContext client, CancellationToken cancellationToken)
    {
        AddressNormalizer.TryNormalize(address, out var normalized, out _);
        var throttleKey = normalized?.ToString() ?? AddressNormalizer.Printable(address).ToLowerInvariant();

        if (_throttle.Peek(client.RemoteAddress, throttleKey, client.TrustedNetworksApply) is { Blocked: true } blocked)
        {
            // Cheap refusal: no database read, no Argon2, and the client waits instead of retrying at once.
            await Task.Delay(blocked.Delay, cancellationToken);
            return Finish(AuthenticationStatus.Failed, AuthenticationFailure.Throttled, "");
        }

        var credential = normalized is null ? null : await _store.FindAsync(normalized, cancellationToken);
        var withinLength = PasswordPolicy.IsWithinLength(password);
        if (credential is { IsDisabled: false } && withinLength && _cache.Matches(credential, password))
        {
            _throttle.MarkSucceeded(client.RemoteAddress, throttleKey);
            return Finish(AuthenticationStatus.Succeeded, AuthenticationFailure.None, "cached", credential.ChangeLogPosition);
        }

        var hashToCheck = credential is not null && withinLength ? credential.PasswordHash : _hasher.DummyHash;
        var shareKey = _shared.KeyOf(throttleKey, password, credential);
        PasswordCheck? joined = null;
        if (_shared.TryJoin(shareKey, out var running))
        {
            try
            {
                joined = await _shared.WaitAsync(running, cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The login it joined was cancelled (its client went away): verify on our own.
            }
        }

        PasswordCheck check;
        if (joined is { } shared)
        {
            check = shared;
        }
        else
        {
            var decision = _throttle.Check(client.RemoteAddress, throttleKey, client.TrustedNetworksApply);
            if (decision.Blocked)
            {
                await Task.Delay(decision.Delay, cancellationToken);
                return Finish(AuthenticationStatus.Failed, AuthenticationFailure.Throttled, "");
            }
            if (!_pool.TryRun(() => _hasher.Verify(hashToCheck, password), cancellationToken, out var verification))
            {
                _throttle.RecordAbandoned(client.RemoteAddress, throttleKey, client.TrustedNetworksApply);
                return Finish(AuthenticationStatus.TemporarilyUnavailable, AuthenticationFailure.Busy, "");
            }
            _shared.Share(shareKey, verification);
            check = await verification;
        }

        var failure =
            normalized is null ? AuthenticationFailure.MalformedAddress
            : credential is null ? AuthenticationFailure.UnknownAddress
            : !withinLength ? AuthenticationFailure.PasswordTooLong
            : !check.Matches ? AuthenticationFailure.WrongPassword
            : credential.IsDisabled ? AuthenticationFailure.Disabled
            : AuthenticationFailure.None;
        if (failure != AuthenticationFailure.None)
        {
            if (joined is null)
            {
                _throttle.RecordFailure(client.RemoteAddress, throttleKey, password, client.TrustedNetworksApply);
            }
            // A joined failure is the same guess as the one it joined, already counted once.
            return Finish(AuthenticationStatus.Failed, failure, "");
        }

        if (joined is not null)
        {
            // The login it joined remembers the password and upgrades the hash.
            _throttle.MarkSucceeded(client.RemoteAddress, throttleKey);
            return Finish(AuthenticationStatus.Succeeded, AuthenticationFailure.None, "joined", credential!.ChangeLogPosition);
        }
        var verified = check.NeedsRehash ? await UpgradeHashAsync(credential!, password, cancellationToken) : credential!;
        _cache.Remember(verified, password);
        _throttle.RecordSuccess(client.RemoteAddress, throttleKey, client.TrustedNetworksApply);
        return Finish(AuthenticationStatus.Succeeded, AuthenticationFailure.None, "verified", credential!.ChangeLogPosition);

        AuthenticationResult Finish(AuthenticationStatus status, AuthenticationFailure reason, string success, long position = 0)
        {
            LogAttempt(
                status switch
                {
                    AuthenticationStatus.Succeeded => "ok",
                    AuthenticationStatus.Failed => "failed",
                    _ => "unavailable",
                },
                ReasonText(reason, success),
                client.Channel.LogName(),
                client.Mechanism,
                client.IsSecure ? "yes" : "no",
                client.RemoteAddress,
                normalized?.ToString() ?? AddressNormalizer.Printable(address).Replace(' ', '_'));
            return status == AuthenticationStatus.Succeeded
                ? new AuthenticationResult(status, normalized, reason, position)
                : new AuthenticationResult(status, null, reason);
        }
    }

    /// <summary>The reason words of the log line (README, "Log format"); stable for log parsers.</summary>
    public static string ReasonText(AuthenticationFailure reason, string success) => reason switch
    {
        AuthenticationFailure.None => success,
        AuthenticationFailure.MalformedAddress => "malformed-address",
        AuthenticationFailure.UnknownAddress => "unknown-address",
        AuthenticationFailure.WrongPassword => "wrong-password",
        AuthenticationFailure.Disabled => "disabled",
        AuthenticationFailure.PasswordTooLong => "password-too-long",
        AuthenticationFailure.Busy => "busy",
        AuthenticationFailure.Throttled => "throttled",
        _ => reason.ToString(),
    };

    /// <summary>Replaces a legacy or weaker hash with one at the configured parameters, best effort.</summary>
    private async Task<MailboxCredential> UpgradeHashAsync(MailboxCredential credential, string password, CancellationToken cancellationToken)
    {
        if (!_pool.TryRun(() => _hasher.Hash(password), cancellationToken, out var hashing))
        {
            return credential; // Busy: the next login will try again.
        }
        var newHash = await hashing;
        var upgraded = await _store.TryUpgradeHashAsync(credential, newHash, cancellationToken);
        LogRehash(credential.Address.ToString(), upgraded);
        return upgraded ? credential with { PasswordHash = newHash } : credential;
    }

    // One line per attempt, in a fixed order with the address last (it is the only free-form
    // field); fail2ban's filter in config/ matches it.
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "auth result={Result} reason={Reason} protocol={Protocol} mechanism={Mechanism} tls={Tls} remote={Remote} address={Address}")]
    private partial void LogAttempt(
        string result, string reason, string protocol, string mechanism, string tls, System.Net.IPAddress remote, string address);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "rehash address={Address} stored={Stored}")]
    private partial void LogRehash(string address, bool stored);
}
