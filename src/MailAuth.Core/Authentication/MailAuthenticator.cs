using System.Data.Common;
using System.Diagnostics;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Observability;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Authentication;

/// <summary>
/// The one mail login check, shared by IMAP, SMTP, the SASL service, auth_http and <c>auth test</c>:
/// mailbox address and mailbox password, nothing else. Every failure looks and costs the same: an
/// unknown or malformed address is verified against a dummy hash, a disabled mailbox against its
/// real hash. A throttled attempt costs no hashing at all; a repeat of a recently verified password
/// costs one HMAC; logins arriving while the same password is being verified wait for that one.
/// With several nodes on one database, a second throttle keeps the failure counts in the database,
/// so guesses spread over the nodes count as on one; a cached login writes nothing there. When the
/// store does not answer, the login is a temporary failure, never a wrong password.
/// </summary>
public sealed partial class MailAuthenticator
{
    private readonly IMailboxCredentialStore _store;
    private readonly CredentialVerifier _verifier;
    private readonly FailureThrottle _throttle;
    private readonly StoredFailureThrottle? _cluster;
    private readonly VerifiedLoginCache _cache;
    private readonly SharedVerifications _shared = new();
    private readonly ILogger<MailAuthenticator> _logger;
    private readonly MailAuthMetrics? _metrics;

    /// <param name="metrics">Where each answer is counted; none in tools and tests.</param>
    public MailAuthenticator(
        IMailboxCredentialStore store,
        CredentialVerifier verifier,
        FailureThrottle throttle,
        VerifiedLoginCache cache,
        ILogger<MailAuthenticator> logger,
        MailAuthMetrics? metrics = null)
        : this(store, verifier, throttle, null, cache, logger, metrics)
    {
    }

    /// <param name="cluster">The failure counts every node shares (<see cref="ClusterThrottleRealm"/>); none on one machine.</param>
    internal MailAuthenticator(
        IMailboxCredentialStore store,
        CredentialVerifier verifier,
        FailureThrottle throttle,
        StoredFailureThrottle? cluster,
        VerifiedLoginCache cache,
        ILogger<MailAuthenticator> logger,
        MailAuthMetrics? metrics = null)
    {
        _store = store;
        _verifier = verifier;
        _throttle = throttle;
        _cluster = cluster;
        _cache = cache;
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>The realm of the mail logins' failure counts in the store's throttle tables.</summary>
    public const string ClusterThrottleRealm = "mail-login";

    /// <summary>Without throttling or cache: every attempt runs Argon2.</summary>
    public MailAuthenticator(IMailboxCredentialStore store, IPasswordHasher hasher, HashingPool pool, ILogger<MailAuthenticator> logger)
        : this(store, new CredentialVerifier(hasher, pool), FailureThrottle.Unlimited, VerifiedLoginCache.Disabled, logger)
    {
    }

    internal SharedVerifications SharedVerifications => _shared;

    public async Task<AuthenticationResult> AuthenticateAsync(
        string address, string password, ClientContext client, CancellationToken cancellationToken)
    {
        var attempt = new LoginAttempt(address, client);
        try
        {
            return await AuthenticateAsync(attempt, password, cancellationToken);
        }
        catch (DbException e) when (e.IsTransient)
        {
            // Unreachable, restarting, failing over, busy: the client should retry. Anything else
            // (a broken schema) stays an internal error of the command (IMAP NO [SERVERBUG]).
            LogStoreUnavailable(e.GetType().Name, e.Message);
            return Finish(attempt, AuthenticationStatus.TemporarilyUnavailable, AuthenticationFailure.StoreUnavailable, "", 0);
        }
    }

    private async Task<AuthenticationResult> AuthenticateAsync(LoginAttempt attempt, string password, CancellationToken cancellationToken)
    {
        var client = attempt.Client;
        using var ticket = _throttle.Admit(client.RemoteAddress, attempt.ThrottleKey, client.TrustedNetworksApply);
        if (ticket.Blocked)
        {
            return await RefuseThrottledAsync(attempt, ticket.Decision, cancellationToken);
        }
        // The node's own counts first (no round trip for a client it already refuses), then every
        // node's, read in the same round trip as the credential (a refused attempt reads it for nothing).
        var read = _cluster is null || ticket.IsUnthrottled || attempt.Address is null || _store is not MailboxCredentialStore store
            ? null
            : store.ReadOf(attempt.Address);
        var started = Stopwatch.GetTimestamp();
        await using var shared = _cluster is null || ticket.IsUnthrottled
            ? null
            : await AdmitSharedAsync(attempt, ticket.KnownNetwork, read, cancellationToken);
        if (shared is { Blocked: true })
        {
            return await RefuseThrottledAsync(attempt, shared.Decision, cancellationToken);
        }

        MailboxCredential? credential;
        if (read is not null)
        {
            _metrics?.StoreQueried("credential", Stopwatch.GetElapsedTime(started));
            credential = read.Credential;
        }
        else
        {
            credential = attempt.Address is null ? null : await FindAsync(attempt.Address, cancellationToken);
        }
        if (credential is { IsDisabled: false } && PasswordPolicy.IsWithinLength(password) && _cache.IsEnabled)
        {
            var hit = _cache.Matches(credential, password);
            _metrics?.LoginCacheLookup(hit);
            if (hit)
            {
                await SucceededAsync(ticket, shared, cancellationToken);
                return Succeeded(attempt, credential, "cached");
            }
        }

        var shareKey = _shared.KeyOf(attempt.ThrottleKey, password, credential);
        if (await TryJoinAsync(shareKey, cancellationToken) is { } joined)
        {
            // The same guess as the one it joined, counted there; that login also remembers the
            // password and upgrades the hash.
            var joinedFailure = Judge(attempt, credential, password, joined);
            if (joinedFailure != AuthenticationFailure.None)
            {
                return Failed(attempt, joinedFailure);
            }
            await SucceededAsync(ticket, shared, cancellationToken);
            return Succeeded(attempt, credential!, "joined");
        }

        if (!ticket.TryStartVerification())
        {
            return await RefuseThrottledAsync(attempt, ticket.Decision, cancellationToken);
        }
        if (shared is not null && !await shared.TryStartVerificationAsync(cancellationToken))
        {
            return await RefuseThrottledAsync(attempt, shared.Decision, cancellationToken);
        }
        if (!_verifier.TryStart(credential?.PasswordHash, password, cancellationToken, out var verification))
        {
            return Finish(attempt, AuthenticationStatus.TemporarilyUnavailable, AuthenticationFailure.Busy, "", 0);
        }
        _shared.Share(shareKey, verification);
        var check = await verification;

        var failure = Judge(attempt, credential, password, check);
        if (failure != AuthenticationFailure.None)
        {
            var counted = ticket.Failed(password);
            if (shared is not null)
            {
                await (counted ? shared.FailedAsync(null, cancellationToken) : shared.FailedAgainAsync(cancellationToken));
            }
            return Failed(attempt, failure);
        }
        var verified = check.NeedsRehash ? await UpgradeHashAsync(credential!, password, cancellationToken) : credential!;
        _cache.Remember(verified, password);
        await SucceededAsync(ticket, shared, cancellationToken);
        return Succeeded(attempt, credential!, "verified");
    }

    private static async Task SucceededAsync(ThrottleTicket ticket, StoredThrottleTicket? shared, CancellationToken cancellationToken)
    {
        ticket.Succeeded();
        if (shared is not null)
        {
            await shared.SucceededAsync(cancellationToken);
        }
    }

    /// <summary>The failure counts every node shares (<c>throttle list</c>), kinds named as in a node's memory; none on one machine.</summary>
    public async Task<IReadOnlyList<ThrottleEntry>> SharedFailuresAsync(CancellationToken cancellationToken) =>
        _cluster is null
            ? []
            : [.. (await _cluster.SnapshotAsync(cancellationToken)).Select(e => e.Kind == "identifier" ? e with { Kind = "address" } : e)];

    /// <summary>Forgets the failures every node shares of an IP address or a mailbox address (<c>throttle clear</c>); 0 on one machine.</summary>
    public async Task<int> ClearSharedFailuresAsync(string ipOrAddress, CancellationToken cancellationToken) =>
        _cluster is null ? 0 : await _cluster.ClearAsync(ipOrAddress, cancellationToken);

    private async Task<StoredThrottleTicket> AdmitSharedAsync(
        LoginAttempt attempt, bool knownNetwork, StoreRead? alongside, CancellationToken cancellationToken)
    {
        try
        {
            return await _cluster!.AdmitAsync(attempt.Client.RemoteAddress, attempt.ThrottleKey, cancellationToken, knownNetwork, alongside);
        }
        catch (DbException) when (alongside is not null)
        {
            _metrics?.CredentialLookupFailed();
            throw;
        }
    }

    private async Task<MailboxCredential?> FindAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        MailboxCredential? credential;
        try
        {
            credential = await _store.FindAsync(address, cancellationToken);
        }
        catch (DbException)
        {
            _metrics?.CredentialLookupFailed();
            throw;
        }
        _metrics?.StoreQueried("credential", Stopwatch.GetElapsedTime(started));
        return credential;
    }

    /// <summary>Why a verified attempt failed, or <see cref="AuthenticationFailure.None"/>.</summary>
    private static AuthenticationFailure Judge(LoginAttempt attempt, MailboxCredential? credential, string password, PasswordCheck check) =>
        attempt.Address is null ? AuthenticationFailure.MalformedAddress
        : credential is null ? AuthenticationFailure.UnknownAddress
        : !PasswordPolicy.IsWithinLength(password) ? AuthenticationFailure.PasswordTooLong
        : !check.Matches ? AuthenticationFailure.WrongPassword
        : credential.IsDisabled ? AuthenticationFailure.Disabled
        : AuthenticationFailure.None;

    /// <summary>The verification of the very same attempt already running, awaited; null when there is none (or it was cancelled).</summary>
    private async Task<PasswordCheck?> TryJoinAsync(string shareKey, CancellationToken cancellationToken)
    {
        if (!_shared.TryJoin(shareKey, out var running))
        {
            return null;
        }
        try
        {
            return await _shared.WaitAsync(running, cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null; // The login it joined was cancelled (its client went away): verify on our own.
        }
    }

    /// <summary>Cheap refusal: no Argon2, and the client waits instead of retrying at once.</summary>
    private async Task<AuthenticationResult> RefuseThrottledAsync(LoginAttempt attempt, ThrottleDecision decision, CancellationToken cancellationToken)
    {
        await Task.Delay(decision.Delay, cancellationToken);
        return Failed(attempt, AuthenticationFailure.Throttled);
    }

    private AuthenticationResult Succeeded(LoginAttempt attempt, MailboxCredential credential, string how) =>
        Finish(attempt, AuthenticationStatus.Succeeded, AuthenticationFailure.None, how, credential.ChangeLogPosition);

    private AuthenticationResult Failed(LoginAttempt attempt, AuthenticationFailure failure) =>
        Finish(attempt, AuthenticationStatus.Failed, failure, "", 0);

    private AuthenticationResult Finish(LoginAttempt attempt, AuthenticationStatus status, AuthenticationFailure reason, string success, long position)
    {
        var client = attempt.Client;
        var result = status switch
        {
            AuthenticationStatus.Succeeded => "ok",
            AuthenticationStatus.Failed => "failed",
            _ => "unavailable",
        };
        var reasonText = ReasonText(reason, success);
        _metrics?.LoginAnswered(
            client.Channel.LogName(),
            client.Mechanism,
            result,
            reasonText,
            reason is AuthenticationFailure.Throttled or AuthenticationFailure.Busy or AuthenticationFailure.StoreUnavailable ? "refused" : success == "cached" ? "cached" : "cold",
            Stopwatch.GetElapsedTime(attempt.Started));
        LogAttempt(
            result,
            reasonText,
            client.Channel.LogName(),
            client.Mechanism,
            client.IsSecure ? "yes" : "no",
            client.RemoteAddress,
            attempt.LogAddress);
        return status == AuthenticationStatus.Succeeded
            ? new AuthenticationResult(status, attempt.Address, reason, position)
            : new AuthenticationResult(status, null, reason);
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
        AuthenticationFailure.StoreUnavailable => "store-unavailable",
        AuthenticationFailure.Throttled => "throttled",
        _ => reason.ToString(),
    };

    /// <summary>Replaces a legacy or weaker hash with one at the configured parameters, best effort.</summary>
    private async Task<MailboxCredential> UpgradeHashAsync(MailboxCredential credential, string password, CancellationToken cancellationToken)
    {
        if (await _verifier.TryHashAsync(password, cancellationToken) is not { } newHash)
        {
            return credential; // Busy: the next login will try again.
        }
        var upgraded = await _store.TryUpgradeHashAsync(credential, newHash, cancellationToken);
        LogRehash(credential.Address.ToString(), upgraded);
        return upgraded ? credential with { PasswordHash = newHash } : credential;
    }

    /// <summary>The address as typed, normalised when it can be, and the key the throttle counts it under.</summary>
    private sealed class LoginAttempt
    {
        public LoginAttempt(string typed, ClientContext client)
        {
            Client = client;
            AddressNormalizer.TryNormalize(typed, out var normalized, out _);
            Address = normalized;
            ThrottleKey = normalized?.ToString() ?? AddressNormalizer.Printable(typed).ToLowerInvariant();
            LogAddress = normalized?.ToString() ?? AddressNormalizer.Printable(typed).Replace(' ', '_');
        }

        public ClientContext Client { get; }

        /// <summary>When the attempt arrived (<see cref="Stopwatch.GetTimestamp"/>).</summary>
        public long Started { get; } = Stopwatch.GetTimestamp();

        public EmailAddress? Address { get; }

        public string ThrottleKey { get; }

        /// <summary>The address field of the log line: it comes last and holds no spaces.</summary>
        public string LogAddress { get; }
    }

    // One line per attempt, in a fixed order with the address last (it is the only free-form
    // field); fail2ban's filter in config/ matches it.
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "auth result={Result} reason={Reason} protocol={Protocol} mechanism={Mechanism} tls={Tls} remote={Remote} address={Address}")]
    private partial void LogAttempt(
        string result, string reason, string protocol, string mechanism, string tls, System.Net.IPAddress remote, string address);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "rehash address={Address} stored={Stored}")]
    private partial void LogRehash(string address, bool stored);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "auth store unavailable: {Error}: {Message}")]
    private partial void LogStoreUnavailable(string error, string message);
}
