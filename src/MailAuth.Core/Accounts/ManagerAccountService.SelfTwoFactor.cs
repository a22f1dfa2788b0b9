using System.Net;
using System.Security.Cryptography;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Accounts;

/// <summary>A fresh 2FA secret not yet stored: shown to the account, kept by the caller until a first code confirms it.</summary>
public sealed record TwoFactorEnrolment(byte[] Secret, string Base32Secret, string ProvisioningUri);

public enum TwoFactorChangeStatus
{
    Changed,

    /// <summary>Wrong, reused or missing code, or 2FA locked after wrong codes: one answer for all.</summary>
    Refused,

    /// <summary>Too many attempts for this account or network: try later.</summary>
    Throttled,

    /// <summary>2FA is already in the state asked for (on when enrolling, off when disabling).</summary>
    AlreadyInThatState,
}

/// <summary>
/// The account's own 2FA changes (issue 16's ninth flow): enrolment stores nothing until a first
/// code from the new secret confirms it, and disabling needs a current code. Each attempt passes the
/// same stored throttle as the account login (same key), and a wrong code when disabling counts
/// toward the 2FA lock like one at login. Either change bumps the credential version, which ends
/// every session of the account.
/// </summary>
public sealed partial class ManagerAccountService
{
    public async Task<TwoFactorEnrolment> NewTwoFactorEnrolmentAsync(string identifier, CancellationToken cancellationToken)
    {
        var account = await RequireAsync(identifier, cancellationToken);
        var secret = RandomNumberGenerator.GetBytes(Totp.SecretBytes);
        return new TwoFactorEnrolment(secret, Base32.Encode(secret), Totp.ProvisioningUri(TotpIssuer, account.Identifier, secret));
    }

    /// <summary>Turns 2FA on with <paramref name="secret"/> when <paramref name="code"/> is its current code; that code is then used up.</summary>
    public async Task<TwoFactorChangeStatus> ConfirmTwoFactorAsync(
        string identifier, byte[] secret, string code, IPAddress client, CancellationToken cancellationToken)
    {
        await using var ticket = await _throttle.AdmitAsync(client, ThrottleKey(identifier), cancellationToken);
        if (ticket.Blocked || !await ticket.TryStartVerificationAsync(cancellationToken))
        {
            await Task.Delay(ticket.Decision.Delay, cancellationToken);
            return Finish(TwoFactorChangeStatus.Throttled);
        }
        var account = await RequireAsync(identifier, cancellationToken);
        if (account.TotpSecret is not null)
        {
            await ticket.SucceededAsync(cancellationToken);
            return Finish(TwoFactorChangeStatus.AlreadyInThatState);
        }
        if (secret.Length != Totp.SecretBytes || Totp.MatchingStep(secret, code.Trim(), _clock.GetUtcNow()) is not { } step)
        {
            await ticket.FailedAsync(null, cancellationToken);
            return Finish(TwoFactorChangeStatus.Refused);
        }
        await _store.SetTotpSecretAsync(account, secret, Actor.Account(account.Identifier), cancellationToken, "confirmed with a first code" + From(client));
        // The confirming code is spent, so that it cannot also open a login within its window.
        if (await _store.FindAsync(account.Identifier, cancellationToken) is { } enabled)
        {
            await _store.TryConsumeTotpStepAsync(enabled, step, cancellationToken);
        }
        await ticket.SucceededAsync(cancellationToken);
        return Finish(TwoFactorChangeStatus.Changed);

        TwoFactorChangeStatus Finish(TwoFactorChangeStatus status)
        {
            LogSelfTwoFactor(AddressNormalizer.Printable(identifier), "enable", client, status);
            return status;
        }
    }

    /// <summary>Turns 2FA off when <paramref name="code"/> is the current code of the stored secret.</summary>
    public async Task<TwoFactorChangeStatus> DisableTwoFactorWithCodeAsync(
        string identifier, string code, IPAddress client, CancellationToken cancellationToken)
    {
        await using var ticket = await _throttle.AdmitAsync(client, ThrottleKey(identifier), cancellationToken);
        if (ticket.Blocked || !await ticket.TryStartVerificationAsync(cancellationToken))
        {
            await Task.Delay(ticket.Decision.Delay, cancellationToken);
            return Finish(TwoFactorChangeStatus.Throttled);
        }
        var account = await RequireAsync(identifier, cancellationToken);
        if (account.TotpSecret is not { } secret)
        {
            await ticket.SucceededAsync(cancellationToken);
            return Finish(TwoFactorChangeStatus.AlreadyInThatState);
        }
        if (await CheckSecondFactorAsync(account, secret, code.Trim(), cancellationToken) is { } refusal)
        {
            await ticket.FailedAsync(refusal.CountsAsWrongCode ? (c, t) => _store.RecordWrongTotpAsync(c, t, account, cancellationToken) : null, cancellationToken);
            return Finish(TwoFactorChangeStatus.Refused);
        }
        await _store.SetTotpSecretAsync(account, null, Actor.Account(account.Identifier), cancellationToken, "disabled with a current code" + From(client));
        await ticket.SucceededAsync(cancellationToken);
        return Finish(TwoFactorChangeStatus.Changed);

        TwoFactorChangeStatus Finish(TwoFactorChangeStatus status)
        {
            LogSelfTwoFactor(AddressNormalizer.Printable(identifier), "disable", client, status);
            return status;
        }
    }

    [LoggerMessage(EventId = 64, Level = LogLevel.Information, Message = "account 2fa {Change} identifier={Identifier} remote={Remote} result={Status}")]
    private partial void LogSelfTwoFactor(string identifier, string change, IPAddress remote, TwoFactorChangeStatus status);
}
