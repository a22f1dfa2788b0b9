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
    Failed,

    /// <summary>Password right, 2FA on, no code given: ask for the code.</summary>
    TotpRequired,

    /// <summary>Logged in with the recovery username: a new login identifier must be chosen first.</summary>
    MustCompleteRecovery,

    TemporarilyUnavailable,
}

public sealed record AccountLoginResult(AccountLoginStatus Status, string? Identifier);

/// <summary>
/// The manager-account realm (DESIGN.md §1): accounts, grants, password unification with a
/// mailbox, login-identifier recovery, resets and 2FA. The mail login path never uses this.
/// </summary>
public sealed partial class ManagerAccountService
{
    public const string TotpIssuer = "MailAuth";
    public static readonly TimeSpan ResetTokenLifetime = TimeSpan.FromMinutes(30);

    private readonly SqliteManagerAccountStore _store;
    private readonly IPasswordHasher _hasher;
    private readonly HashingPool _pool;
    private readonly TimeProvider _clock;
    private readonly ILogger<ManagerAccountService> _logger;

    internal ManagerAccountService(
        SqliteManagerAccountStore store, IPasswordHasher hasher, HashingPool pool, TimeProvider clock, ILogger<ManagerAccountService> logger)
    {
        _store = store;
        _hasher = hasher;
        _pool = pool;
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
        await _store.AddAsync(identifier, _hasher.Hash(password), holder, mobile, secondary, Actor.Admin, cancellationToken);
        return identifier;
    }

    public async Task<IReadOnlyList<ManagerAccount>> ListAsync(CancellationToken cancellationToken) => await _store.ListAsync(cancellationToken);

    public async Task<ManagerAccount> ShowAsync(string identifier, CancellationToken cancellationToken) =>
        await _store.DescribeAsync(await RequireAsync(identifier, cancellationToken), cancellationToken);

    /// <summary>Sets the account's own password; a unified mailbox follows. Returns that mailbox, if any.</summary>
    public async Task<EmailAddress?> SetPasswordAsync(string identifier, string password, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        PasswordPolicy.EnsureAcceptable(password);
        // Two hashes of one password, each with its own salt: nothing is shared but the plaintext, now.
        return await _store.SetAccountPasswordAsync(
            account, _hasher.Hash(password), _hasher.Hash(password), Actor.Account(account.Identifier), "changed by the account holder",
            cancellationToken);
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
        string identifier, string mailbox, string password, bool unify, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        if (account.Login is null)
        {
            throw new CredentialOperationException("the account is in recovery: choose a new login identifier first");
        }
        var address = EmailAddress.Parse(mailbox);
        PasswordPolicy.EnsureAcceptable(password);
        var outcome = await _store.SetMailboxPasswordAsync(account, address, _hasher.Hash(password), _hasher.Hash(password), unify, cancellationToken);
        if (outcome.Result == MailboxPasswordResult.UnificationRefused)
        {
            await _store.QueueAsync([], Actor.Account(account.Identifier), "unification.refused", $"{account.Identifier} = {address}",
                string.Join("; ", outcome.Conditions.Failed), cancellationToken);
        }
        return outcome;
    }

    public async Task<UnificationConditions> EvaluateUnificationAsync(string identifier, string mailbox, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        return await _store.EvaluateAsync(account, EmailAddress.Parse(mailbox), cancellationToken);
    }

    /// <summary>
    /// Verifies a manager login. An unknown identifier, a retired one and a wrong password get the
    /// same answer after the same single Argon2 verification.
    /// </summary>
    public async Task<AccountLoginResult> LoginAsync(string identifier, string password, string? totpCode, CancellationToken cancellationToken)
    {
        var account = await FindAsync(identifier, cancellationToken);
        var withinLength = PasswordPolicy.IsWithinLength(password);
        var hashToCheck = account is not null && withinLength ? account.PasswordHash : _hasher.DummyHash;
        if (!_pool.TryRun(() => _hasher.Verify(hashToCheck, password), cancellationToken, out var verification))
        {
            return Finish(AccountLoginStatus.TemporarilyUnavailable, "busy");
        }
        var check = await verification;
        if (account is null || !withinLength || !check.Matches)
        {
            return Finish(AccountLoginStatus.Failed, account is null ? "unknown identifier" : "wrong password");
        }

        if (account.TotpSecret is { } secret)
        {
            if (string.IsNullOrEmpty(totpCode))
            {
                return Finish(AccountLoginStatus.TotpRequired, "2FA code required");
            }
            if (Totp.MatchingStep(secret, totpCode, _clock.GetUtcNow()) is not { } step
                || !await _store.TryConsumeTotpStepAsync(account, step, cancellationToken))
            {
                return Finish(AccountLoginStatus.Failed, "wrong or reused 2FA code");
            }
        }
        if (check.NeedsRehash && _pool.TryRun(() => _hasher.Hash(password), cancellationToken, out var rehash))
        {
            await _store.TryUpgradeHashAsync(account, await rehash, cancellationToken);
        }
        return account.Login is null
            ? Finish(AccountLoginStatus.MustCompleteRecovery, "recovery username")
            : Finish(AccountLoginStatus.Succeeded, "ok");

        AccountLoginResult Finish(AccountLoginStatus status, string reason)
        {
            LogLogin(AddressNormalizer.Printable(identifier), status, reason);
            return new AccountLoginResult(status, status is AccountLoginStatus.Failed or AccountLoginStatus.TemporarilyUnavailable ? null : account?.Identifier);
        }
    }

    /// <summary>Logs in with the recovery username and the unchanged password, then sets the new login identifier.</summary>
    public async Task<EmailAddress> CompleteRecoveryAsync(
        string recoveryUsername, string password, string? totpCode, string newLogin, CancellationToken cancellationToken)
    {
        var identifier = ContactDetails.NormalizeEmail(newLogin, "new login identifier");
        var login = await LoginAsync(recoveryUsername, password, totpCode, cancellationToken);
        switch (login.Status)
        {
            case AccountLoginStatus.MustCompleteRecovery:
                break;
            case AccountLoginStatus.Succeeded:
                throw new CredentialOperationException("the account is not in recovery");
            case AccountLoginStatus.TotpRequired:
                throw new CredentialOperationException("this account has 2FA on: give the current code with --totp");
            default:
                throw new CredentialOperationException("login with the recovery username failed");
        }
        var account = (await _store.FindAsync(login.Identifier!, cancellationToken))!;
        await _store.CompleteRecoveryAsync(account, identifier, cancellationToken);
        return identifier;
    }

    /// <summary>Sends a single-use reset token (valid 30 minutes) to the secondary email and phone; says nothing about existence.</summary>
    public async Task RequestPasswordResetAsync(string identifier, CancellationToken cancellationToken)
    {
        var account = await FindAsync(identifier, cancellationToken);
        if (account is null)
        {
            LogUnknownReset(AddressNormalizer.Printable(identifier));
            return;
        }
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var expires = _clock.GetUtcNow() + ResetTokenLifetime;
        var text = $"A password reset was requested for your manager account {account.Identifier}. " +
                   $"Reset token (single use, valid until {expires:u}): {token}. If you did not ask for this, ignore this message.";
        await _store.CreateResetTokenAsync(account, HashToken(token), expires,
        [
            new Notification(NotificationChannel.Email, account.SecondaryEmail, "Password reset", text),
            new Notification(NotificationChannel.Sms, account.Phone, "Password reset", text),
        ], cancellationToken);
    }

    /// <summary>Sets a new password with a reset token; a unified mailbox follows.</summary>
    public async Task<(string Identifier, EmailAddress? UnifiedMailbox)> CompletePasswordResetAsync(
        string token, string password, CancellationToken cancellationToken)
    {
        var tokenHash = HashToken(token.Trim());
        var account = await _store.FindByResetTokenAsync(tokenHash, cancellationToken)
            ?? throw new CredentialOperationException("the reset token is invalid, used or expired");
        PasswordPolicy.EnsureAcceptable(password);
        var unified = await _store.CompleteResetAsync(tokenHash, account, _hasher.Hash(password), _hasher.Hash(password), cancellationToken);
        return (account.Identifier, unified);
    }

    /// <summary>Sends each account's login identifier to its phone and secondary email; never shows it to the asker.</summary>
    public async Task SendLoginIdentifierAsync(string phone, CancellationToken cancellationToken)
    {
        var normalized = ContactDetails.NormalizePhone(phone);
        foreach (var account in await _store.FindByPhoneAsync(normalized, cancellationToken))
        {
            var text = account.Login is null
                ? $"Your manager account is in recovery. Log in with the username {account.RecoveryUsername} and your usual password."
                : $"The login identifier of your manager account is {account.Login}.";
            await _store.QueueAsync(
            [
                new Notification(NotificationChannel.Sms, account.Phone, "Your login identifier", text),
                new Notification(NotificationChannel.Email, account.SecondaryEmail, "Your login identifier", text),
            ], Actor.System, "account.login-identifier-sent", account.Identifier, "requested with the phone number on file", cancellationToken);
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
            throw new CredentialOperationException($"account {account.Identifier} has no 2FA");
        }
        await _store.SetTotpSecretAsync(account, null, Actor.Admin, cancellationToken);
    }

    private async Task<AccountRecord> RequireAsync(string identifier, CancellationToken cancellationToken) =>
        await FindAsync(identifier, cancellationToken)
        ?? throw new CredentialOperationException($"no manager account '{AddressNormalizer.Printable(identifier)}'");

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

    private static byte[] HashToken(string token) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "account login identifier={Identifier} result={Status} reason={Reason}")]
    private partial void LogLogin(string identifier, AccountLoginStatus status, string reason);

    [LoggerMessage(EventId = 61, Level = LogLevel.Information, Message = "account reset requested for unknown identifier={Identifier}")]
    private partial void LogUnknownReset(string identifier);
}
