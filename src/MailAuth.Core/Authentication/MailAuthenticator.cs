using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Passwords;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Authentication;

/// <summary>
/// The one mail login check, shared by IMAP, SMTP and <c>auth test</c>: mailbox address and mailbox
/// password, nothing else. Every failure looks and costs the same: an unknown or malformed address
/// is verified against a dummy hash, a disabled mailbox against its real hash.
/// </summary>
public sealed partial class MailAuthenticator(
    IMailboxCredentialStore store,
    IPasswordHasher hasher,
    HashingPool pool,
    ILogger<MailAuthenticator> logger)
{
    public async Task<AuthenticationResult> AuthenticateAsync(
        string address, string password, ClientContext client, CancellationToken cancellationToken)
    {
        AddressNormalizer.TryNormalize(address, out var normalized, out _);
        var credential = normalized is null ? null : await store.FindAsync(normalized, cancellationToken);
        var withinLength = PasswordPolicy.IsWithinLength(password);
        var hashToCheck = credential is not null && withinLength ? credential.PasswordHash : hasher.DummyHash;

        if (!pool.TryRun(() => hasher.Verify(hashToCheck, password), cancellationToken, out var verification))
        {
            return Finish(AuthenticationStatus.TemporarilyUnavailable, normalized, AuthenticationFailure.Busy);
        }
        var check = await verification;

        var failure =
            normalized is null ? AuthenticationFailure.MalformedAddress
            : credential is null ? AuthenticationFailure.UnknownAddress
            : !withinLength ? AuthenticationFailure.PasswordTooLong
            : !check.Matches ? AuthenticationFailure.WrongPassword
            : credential.IsDisabled ? AuthenticationFailure.Disabled
            : AuthenticationFailure.None;
        if (failure != AuthenticationFailure.None)
        {
            return Finish(AuthenticationStatus.Failed, normalized, failure);
        }

        if (check.NeedsRehash)
        {
            await UpgradeHashAsync(credential!, password, cancellationToken);
        }
        return Finish(AuthenticationStatus.Succeeded, normalized, AuthenticationFailure.None);

        AuthenticationResult Finish(AuthenticationStatus status, EmailAddress? who, AuthenticationFailure reason)
        {
            LogAttempt(
                client.Protocol,
                client.Mechanism,
                who?.ToString() ?? AddressNormalizer.Printable(address),
                client.RemoteAddress,
                client.IsSecure ? "yes" : "no",
                status switch
                {
                    AuthenticationStatus.Succeeded => "ok",
                    AuthenticationStatus.Failed => "failed",
                    _ => "unavailable",
                },
                reason);
            return new AuthenticationResult(status, status == AuthenticationStatus.Succeeded ? who : null, reason);
        }
    }

    /// <summary>Replaces a legacy or weaker hash with one at the configured parameters, best effort.</summary>
    private async Task UpgradeHashAsync(MailboxCredential credential, string password, CancellationToken cancellationToken)
    {
        if (!pool.TryRun(() => hasher.Hash(password), cancellationToken, out var hashing))
        {
            return; // Busy: the next login will try again.
        }
        var upgraded = await store.TryUpgradeHashAsync(credential, await hashing, cancellationToken);
        LogRehash(credential.Address.ToString(), upgraded);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "auth protocol={Protocol} mechanism={Mechanism} address={Address} remote={Remote} tls={Tls} result={Result} reason={Reason}")]
    private partial void LogAttempt(
        string protocol, string mechanism, string address, System.Net.IPAddress remote, string tls, string result, AuthenticationFailure reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "rehash address={Address} stored={Stored}")]
    private partial void LogRehash(string address, bool stored);
}
