using System.Net;
using System.Security.Cryptography;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Authentication;
using MailAuth.Core.Notifications;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Accounts;

public enum AccountLoginStatus
{
    Succeeded,

    /// <summary>
    /// Unknown identifier, wrong password, 2FA code missing or wrong, or 2FA locked: one answer for
    /// all, so that nothing tells a guesser that the password was right.
    /// </summary>
    Failed,

    /// <summary>
    /// Too many failures for this identifier or from this network: nothing was verified (so this
    /// says nothing about the password, nor whether the identifier exists: unknown ones count too).
    /// </summary>
    Throttled,

    /// <summary>Logged in with the recovery username: a new login identifier must be chosen first.</summary>
    MustCompleteRecovery,

    TemporarilyUnavailable,
}

/// <summary>
/// A login's outcome; <paramref name="CredentialVersion"/> is the account's at that moment, so a
/// session can tell when the password, 2FA or identifier changed afterwards.
/// </summary>
public sealed record AccountLoginResult(AccountLoginStatus Status, string? Identifier, long CredentialVersion = 0);

/// <summary>
/// The manager-account realm (docs: the rules): accounts, grants, password unification with a
/// mailbox, login-identifier recovery, resets and 2FA. The mail login path never uses this.
/// Logins are throttled like mail logins, with the counters in the store (each CLI run is a
/// process of its own); passwords are verified and hashed on the bounded Argon2 pool.
/// </summary>
public sealed partial class ManagerAccountService
{
    public const string TotpIssuer = "MailAuth";
    public const string LoginRealm = "account-login";
    public static readonly TimeSpan ResetTokenLifetime = TimeSpan.FromMinutes(30);

    /// <summary>When to ask again past a reset or login-identifier request limit: their budgets halve hourly.</summary>
    public static readonly TimeSpan RequestLimitRetryAfter = TimeSpan.FromHours(1);

    private readonly ManagerAccountStore _store;
    private readonly CredentialVerifier _verifier;
    private readonly StoredFailureThrottle _throttle;
    private readonly TimeProvider _clock;
    private readonly ILogger<ManagerAccountService> _logger;

    internal ManagerAccountService(
        ManagerAccountStore store, CredentialVerifier verifier, StoredFailureThrottle throttle, TimeProvider clock,
        ILogger<ManagerAccountService> logger)
    {
        _store = store;
        _verifier = verifier;
        _throttle = throttle;
        _clock = clock;
        _logger = logger;
    }

    public async Task<EmailAddress> AddAsync(
        string login, string password, string name, string phone, string secondaryEmail, CancellationToken cancellationToken)
    {
        var identifier = ContactDetails.NormalizeEmail(login, "login identifier");
        var secondary = ContactDetails.NormalizeEmail(secondaryEmail, "secondary email");
        if (secondary == identifier)
        {
            throw new CredentialOperationException("the secondary email must differ from the login identifier: it is where recovery messages go");
        }
        var holder = ContactDetails.NormalizeName(name);
        var mobile = ContactDetails.NormalizePhone(phone);
        PasswordPolicy.EnsureAcceptable(password);
        await _store.AddAsync(identifier, await _verifier.HashAsync(password, cancellationToken), holder, mobile, secondary, Actor.Admin, cancellationToken);
        return identifier;
    }

    public async Task<IReadOnlyList<ManagerAccount>> ListAsync(CancellationToken cancellationToken) => await _store.ListAsync(cancellationToken);

    public async Task<ManagerAccount> ShowAsync(string identifier, CancellationToken cancellationToken) =>
        await _store.DescribeAsync(await RequireAsync(identifier, cancellationToken), cancellationToken);

    /// <summary>
    /// Sets the account's own password; a unified mailbox follows. Returns that mailbox, if any.
    /// <paramref name="client"/>: the holder's address (a web request), for the audit log.
    /// </summary>
    public async Task<EmailAddress?> SetPasswordAsync(string identifier, string password, CancellationToken cancellationToken, IPAddress? client = null)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        PasswordPolicy.EnsureAcceptable(password);
        var (accountHash, mailboxHash) = await TwoHashesAsync(password, cancellationToken);
        return await _store.SetAccountPasswordAsync(
            account, accountHash, mailboxHash, Actor.Account(account.Identifier), "changed by the account holder" + From(client), cancellationToken);
    }

    public async Task GrantAsync(string identifier, string mailbox, bool canChangePassword, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        await _store.GrantAsync(account, EmailAddress.Parse(mailbox), canChangePassword, Actor.Admin, cancellationToken);
    }

    public async Task RevokeAsync(string identifier, string mailbox, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        await _store.RevokeAsync(account, EmailAddress.Parse(mailbox), Actor.Admin, cancellationToken);
    }

    /// <summary>The account holder changes a mailbox password, accepting unification when <paramref name="unify"/>.</summary>
    public async Task<MailboxPasswordOutcome> SetMailboxPasswordAsync(
        string identifier, string mailbox, string password, bool unify, CancellationToken cancellationToken, IPAddress? client = null)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        if (account.Login is null)
        {
            throw new CredentialOperationException("the account is in recovery: choose a new login identifier first", CredentialRefusal.NotAllowed);
        }
        var address = EmailAddress.Parse(mailbox);
        PasswordPolicy.EnsureAcceptable(password);
        var (mailboxHash, accountHash) = await TwoHashesAsync(password, cancellationToken);
        var outcome = await _store.SetMailboxPasswordAsync(account, address, mailboxHash, accountHash, unify, cancellationToken, From(client));
        if (outcome.Result == MailboxPasswordResult.UnificationRefused)
        {
            await _store.QueueAsync([], Actor.Account(account.Identifier), "unification.refused", $"{account.Identifier} = {address}",
                string.Join("; ", outcome.Conditions.Failed) + From(client), cancellationToken);
        }
        return outcome;
    }

    public async Task<UnificationConditions> EvaluateUnificationAsync(string identifier, string mailbox, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        return await _store.EvaluateAsync(account, EmailAddress.Parse(mailbox), cancellationToken);
    }

    /// <summary>
    /// Verifies a manager login from <paramref name="client"/>. An unknown identifier, a retired one,
    /// a wrong password and a right password with a missing, wrong or locked 2FA code get the same
    /// answer after the same single Argon2 verification and one write; every one counts for the
    /// throttle, and wrong codes with the right password lock 2FA after a few.
    /// </summary>
    public async Task<AccountLoginResult> LoginAsync(
        string identifier, string password, string? totpCode, IPAddress client, CancellationToken cancellationToken)
    {
        var key = ThrottleKey(identifier);
        await using var ticket = await _throttle.AdmitAsync(client, key, cancellationToken);
        if (ticket.Blocked)
        {
            await Task.Delay(ticket.Decision.Delay, cancellationToken);
            return Finish(AccountLoginStatus.Throttled, "throttled", null);
        }
        var account = await FindAsync(identifier, cancellationToken);
        if (!await ticket.TryStartVerificationAsync(cancellationToken))
        {
            await Task.Delay(ticket.Decision.Delay, cancellationToken);
            return Finish(AccountLoginStatus.Throttled, "throttled", null);
        }
        if (!_verifier.TryStart(account?.PasswordHash, password, cancellationToken, out var verification))
        {
            return Finish(AccountLoginStatus.TemporarilyUnavailable, "busy", null);
        }
        var check = await verification;
        if (account is null || !PasswordPolicy.IsWithinLength(password) || !check.Matches)
        {
            await ticket.FailedAsync(null, cancellationToken);
            return Finish(AccountLoginStatus.Failed, account is null ? "unknown identifier" : "wrong password", null);
        }
        if (account.TotpSecret is { } secret && await CheckSecondFactorAsync(account, secret, totpCode, cancellationToken) is { } refusal)
        {
            await ticket.FailedAsync(refusal.CountsAsWrongCode ? (c, t) => _store.RecordWrongTotpAsync(c, t, account, cancellationToken) : null, cancellationToken);
            return Finish(AccountLoginStatus.Failed, refusal.Reason, null);
        }
        if (check.NeedsRehash && await _verifier.TryHashAsync(password, cancellationToken) is { } rehash)
        {
            await _store.TryUpgradeHashAsync(account, rehash, cancellationToken);
        }
        await ticket.SucceededAsync(cancellationToken);
        return account.Login is null
            ? Finish(AccountLoginStatus.MustCompleteRecovery, "recovery username", account.Identifier, account.CredentialVersion)
            : Finish(AccountLoginStatus.Succeeded, "ok", account.Identifier, account.CredentialVersion);

        AccountLoginResult Finish(AccountLoginStatus status, string reason, string? loggedIn, long version = 0)
        {
            LogLogin(AddressNormalizer.Printable(identifier), client, status, reason);
            return new AccountLoginResult(status, loggedIn, version);
        }
    }

    /// <summary>Why the second factor refuses this login, or null when the code is right (and now used).</summary>
    private async Task<SecondFactorRefusal?> CheckSecondFactorAsync(AccountRecord account, byte[] secret, string? code, CancellationToken cancellationToken)
    {
        if (account.TotpLockedUntil is { } until && until > _clock.GetUtcNow())
        {
            return new SecondFactorRefusal("2FA locked after wrong codes", CountsAsWrongCode: false);
        }
        if (string.IsNullOrEmpty(code))
        {
            return new SecondFactorRefusal("2FA code missing", CountsAsWrongCode: false);
        }
        return Totp.MatchingStep(secret, code, _clock.GetUtcNow()) is { } step && await _store.TryConsumeTotpStepAsync(account, step, cancellationToken)
            ? null
            : new SecondFactorRefusal("wrong or reused 2FA code", CountsAsWrongCode: true);
    }

    private sealed record SecondFactorRefusal(string Reason, bool CountsAsWrongCode);

    /// <summary>Logs in with the recovery username and the unchanged password, then sets the new login identifier.</summary>
    public async Task<EmailAddress> CompleteRecoveryAsync(
        string recoveryUsername, string password, string? totpCode, string newLogin, IPAddress client, CancellationToken cancellationToken)
    {
        var identifier = ContactDetails.NormalizeEmail(newLogin, "new login identifier");
        var login = await LoginAsync(recoveryUsername, password, totpCode, client, cancellationToken);
        switch (login.Status)
        {
            case AccountLoginStatus.MustCompleteRecovery:
                break;
            case AccountLoginStatus.Succeeded:
                throw new CredentialOperationException("the account is not in recovery", CredentialRefusal.NotAllowed);
            case AccountLoginStatus.TemporarilyUnavailable:
                throw new CredentialOperationException("the server is too busy to verify now; try again shortly", CredentialRefusal.Busy);
            case AccountLoginStatus.Throttled:
                throw new CredentialOperationException("too many failed attempts for this username or from this address; try again later", CredentialRefusal.Throttled);
            default:
                throw new CredentialOperationException("login with the recovery username failed (wrong username, password or 2FA code)", CredentialRefusal.FailedCredentials);
        }
        var account = (await _store.FindAsync(login.Identifier!, cancellationToken))!;
        await _store.CompleteRecoveryAsync(account, identifier, cancellationToken, From(client));
        return identifier;
    }

    /// <summary>
    /// Sends a single-use reset token (valid 30 minutes) to the secondary email and phone; says
    /// nothing about existence, and costs the same for an unknown identifier (one transaction either
    /// way). Requests are limited per identifier and per <paramref name="requester"/> network; over a
    /// limit, known or not, the request is refused.
    /// </summary>
    public Task RequestPasswordResetAsync(string identifier, IPAddress requester, CancellationToken cancellationToken) =>
        RequestPasswordResetAsync(identifier, requester, resetPage: null, cancellationToken);

    /// <summary>
    /// As above; with <paramref name="resetPage"/> (a front end's page, absolute) the message carries
    /// a link, <c>{resetPage}?token=…</c>, instead of the bare token. Core knows no web address of its own.
    /// </summary>
    public async Task RequestPasswordResetAsync(string identifier, IPAddress requester, Uri? resetPage, CancellationToken cancellationToken)
    {
        var account = await FindAsync(identifier, cancellationToken);
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var expires = _clock.GetUtcNow() + ResetTokenLifetime;
        var secret = resetPage is null
            ? $"Reset token (single use, valid until {expires:u}): {Notification.SecretPlaceholder}."
            : $"Reset link (single use, valid until {expires:u}): {resetPage.AbsoluteUri}?token={Notification.SecretPlaceholder}";
        var text = $"A password reset was requested for your manager account {account?.Identifier ?? identifier}. " +
                   $"{secret} If you did not ask for this, ignore this message.";
        IReadOnlyList<Notification> notifications = account is null
            ? []
            :
            [
                new Notification(NotificationChannel.Email, account.SecondaryEmail, "Password reset", text) { Secret = token },
                new Notification(NotificationChannel.Sms, account.Phone, "Password reset", text) { Secret = token },
            ];
        var accepted = await _store.RequestResetAsync(
            ThrottleKey(identifier), ClientNetwork.Of(requester).ToString(), account, HashToken(token), expires, notifications, cancellationToken);
        if (!accepted)
        {
            LogResetRefused(AddressNormalizer.Printable(identifier), requester);
            throw new CredentialOperationException("too many password reset requests for this identifier or from this address; try again later",
                CredentialRefusal.Throttled, RequestLimitRetryAfter);
        }
        if (account is null)
        {
            LogUnknownReset(AddressNormalizer.Printable(identifier));
        }
    }

    /// <summary>
    /// Sets a new password with a reset token; a unified mailbox follows. With 2FA on, the current
    /// code is required too (a wrong one counts toward the 2FA lock), so a reset token alone (a
    /// stolen phone, a read of the outbox) does not open a 2FA-protected account.
    /// </summary>
    public async Task<(string Identifier, EmailAddress? UnifiedMailbox)> CompletePasswordResetAsync(
        string token, string password, string? totpCode, CancellationToken cancellationToken, IPAddress? client = null)
    {
        var tokenHash = HashToken(token.Trim());
        var account = await _store.FindByResetTokenAsync(tokenHash, cancellationToken)
            ?? throw new CredentialOperationException("the reset token is invalid, used or expired", CredentialRefusal.FailedCredentials);
        PasswordPolicy.EnsureAcceptable(password);
        if (account.TotpSecret is { } secret && await CheckSecondFactorAsync(account, secret, totpCode, cancellationToken) is { } refusal)
        {
            if (refusal.CountsAsWrongCode)
            {
                await _store.RecordWrongTotpAsync(account, cancellationToken);
            }
            LogResetSecondFactorRefused(account.Identifier, refusal.Reason);
            throw new CredentialOperationException(refusal.CountsAsWrongCode
                ? "the 2FA code is wrong; the reset token stays valid until it expires"
                : $"this account has 2FA on: give the current code ({refusal.Reason})", CredentialRefusal.FailedCredentials);
        }
        var (accountHash, mailboxHash) = await TwoHashesAsync(password, cancellationToken);
        var unified = await _store.CompleteResetAsync(tokenHash, account, accountHash, mailboxHash, cancellationToken, From(client));
        return (account.Identifier, unified);
    }

    /// <summary>
    /// What a reset form must ask: null when the token is unknown, used or expired; otherwise whether
    /// its account has 2FA on (then <see cref="CompletePasswordResetAsync"/> needs a code).
    /// </summary>
    public async Task<bool?> ResetNeedsSecondFactorAsync(string token, CancellationToken cancellationToken) =>
        await _store.FindByResetTokenAsync(HashToken(token.Trim()), cancellationToken) is { } account ? account.TotpSecret is not null : null;

    /// <summary>
    /// Sends each account's login identifier to its phone and secondary email; never shows it to the
    /// asker. Limited per phone number and per <paramref name="requester"/> network (null: the admin's
    /// CLI, per number only), known number or not, so that nobody can flood a phone with messages.
    /// </summary>
    public async Task SendLoginIdentifierAsync(string phone, IPAddress? requester, CancellationToken cancellationToken)
    {
        var normalized = ContactDetails.NormalizePhone(phone);
        if (!await _store.TryChargeLoginIdentifierRequestAsync(normalized, requester is null ? null : ClientNetwork.Of(requester).ToString(), cancellationToken))
        {
            throw new CredentialOperationException("too many login identifier requests for this phone number or from this address; try again later",
                CredentialRefusal.Throttled, RequestLimitRetryAfter);
        }
        foreach (var account in await _store.FindByPhoneAsync(normalized, cancellationToken))
        {
            var text = account.Login is null
                ? $"Your manager account is in recovery. Log in with the username {account.RecoveryUsername} and your usual password."
                : $"The login identifier of your manager account is {account.Login}.";
            await _store.QueueAsync(
            [
                new Notification(NotificationChannel.Sms, account.Phone, "Your login identifier", text),
                new Notification(NotificationChannel.Email, account.SecondaryEmail, "Your login identifier", text),
            ], Actor.System, "account.login-identifier-sent", account.Identifier, "requested with the phone number on file" + From(requester), cancellationToken);
        }
    }

    /// <summary>Turns 2FA on with a fresh secret and returns the otpauth:// URI, to be shown once.</summary>
    public async Task<string> EnableTwoFactorAsync(string identifier, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        var secret = RandomNumberGenerator.GetBytes(Totp.SecretBytes);
        await _store.SetTotpSecretAsync(account, secret, Actor.Admin, cancellationToken);
        return Totp.ProvisioningUri(TotpIssuer, account.Identifier, secret);
    }

    public async Task DisableTwoFactorAsync(string identifier, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        if (account.TotpSecret is null)
        {
            throw new CredentialOperationException($"account {account.Identifier} has no 2FA", CredentialRefusal.NotAllowed);
        }
        await _store.SetTotpSecretAsync(account, null, Actor.Admin, cancellationToken);
    }

    private async Task<AccountRecord> RequireAsync(string identifier, CancellationToken cancellationToken) =>
        await FindAsync(identifier, cancellationToken)
        ?? throw new CredentialOperationException($"no manager account '{AddressNormalizer.Printable(identifier)}'", CredentialRefusal.NotFound);

    /// <summary>An email-form identifier is normalised like an address; anything else is a recovery username.</summary>
    private async Task<AccountRecord?> FindAsync(string identifier, CancellationToken cancellationToken)
    {
        if (identifier.Contains('@', StringComparison.Ordinal))
        {
            return AddressNormalizer.TryNormalize(identifier, out var address, out _)
                ? await _store.FindAsync(address.ToString(), cancellationToken)
                : null;
        }
        var username = identifier.Trim().ToLowerInvariant();
        return username.Length is > 0 and <= 32 ? await _store.FindAsync(username, cancellationToken) : null;
    }

    /// <summary>Two hashes of one password, each with its own salt: nothing is shared but the plaintext, now.</summary>
    private async Task<(string First, string Second)> TwoHashesAsync(string password, CancellationToken cancellationToken)
    {
        var first = _verifier.HashAsync(password, cancellationToken);
        var second = _verifier.HashAsync(password, cancellationToken);
        return (await first, await second);
    }

    /// <summary>What the throttle counts attempts against: the identifier as it would be looked up, known or not.</summary>
    private static string ThrottleKey(string identifier) =>
        identifier.Contains('@', StringComparison.Ordinal) && AddressNormalizer.TryNormalize(identifier, out var address, out _)
            ? address.ToString()
            : AddressNormalizer.Printable(identifier).Trim().ToLowerInvariant();

    /// <summary>Where a change came from, for its audit entry (" from ADDRESS"); empty for the admin's CLI.</summary>
    private static string From(IPAddress? client) => client is null ? "" : $" from {client}";

    private static byte[] HashToken(string token) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "account login identifier={Identifier} remote={Remote} result={Status} reason={Reason}")]
    private partial void LogLogin(string identifier, IPAddress remote, AccountLoginStatus status, string reason);

    [LoggerMessage(EventId = 61, Level = LogLevel.Information, Message = "account reset requested for unknown identifier={Identifier}")]
    private partial void LogUnknownReset(string identifier);

    [LoggerMessage(EventId = 62, Level = LogLevel.Warning, Message = "account reset refused: too many requests identifier={Identifier} requester={Requester}")]
    private partial void LogResetRefused(string identifier, IPAddress requester);

    [LoggerMessage(EventId = 63, Level = LogLevel.Warning, Message = "account reset refused identifier={Identifier} reason={Reason}")]
    private partial void LogResetSecondFactorRefused(string identifier, string reason);
}
