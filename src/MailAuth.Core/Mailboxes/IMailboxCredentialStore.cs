using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

/// <summary>
/// The only store the IMAP/SMTP login path may use: it reads mailbox credentials and upgrades a
/// hash after a successful login, nothing else. It has no way to reach manager accounts.
/// </summary>
public interface IMailboxCredentialStore
{
    Task<MailboxCredential?> FindAsync(EmailAddress address, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the hash after a rehash on login, only if the credential is still the one that was
    /// verified (same version and hash); a concurrent password change always wins.
    /// </summary>
    Task<bool> TryUpgradeHashAsync(MailboxCredential verified, string newHash, CancellationToken cancellationToken);
}
