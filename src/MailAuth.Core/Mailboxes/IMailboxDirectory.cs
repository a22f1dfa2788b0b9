using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

/// <summary>
/// Provisioning of domains and mailboxes (the admin side). Refusals are reported with
/// <see cref="CredentialOperationException"/> carrying a reason fit to show the admin.
/// </summary>
public interface IMailboxDirectory
{
    Task AddDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Adds a domain whose new mailboxes are homed on <paramref name="defaultNode"/> (a normalised <see cref="NodeName"/>; null: none).</summary>
    Task AddDomainAsync(string domain, string? defaultNode, CancellationToken cancellationToken);

    /// <summary>Removes a domain; with <paramref name="includingMailboxes"/> its mailboxes too, else it must be empty.</summary>
    Task<IReadOnlyList<EmailAddress>> RemoveDomainAsync(string domain, bool includingMailboxes, CancellationToken cancellationToken);

    Task<IReadOnlyList<Domain>> ListDomainsAsync(CancellationToken cancellationToken);

    Task AddMailboxAsync(EmailAddress address, string passwordHash, CancellationToken cancellationToken);

    /// <summary>Adds a mailbox homed on <paramref name="homeNode"/> (a normalised <see cref="NodeName"/>; null: its domain's default node).</summary>
    Task AddMailboxAsync(EmailAddress address, string passwordHash, string? homeNode, CancellationToken cancellationToken);

    /// <summary>Sets a new password hash; <paramref name="endSessions"/> says whether the mailbox's open sessions must end.</summary>
    Task SetPasswordHashAsync(EmailAddress address, string passwordHash, bool endSessions, CancellationToken cancellationToken);

    /// <summary>
    /// Sets a new password hash chosen by the mailbox's holder, who proved the current password;
    /// audited as the holder with <paramref name="client"/> (the client address); the open sessions end.
    /// </summary>
    Task ChangePasswordHashByHolderAsync(EmailAddress address, string passwordHash, string client, CancellationToken cancellationToken);

    Task RemoveMailboxAsync(EmailAddress address, CancellationToken cancellationToken);

    /// <summary>Disables with a reason, or enables when <paramref name="reason"/> is null.</summary>
    Task SetDisabledAsync(EmailAddress address, string? reason, CancellationToken cancellationToken);

    Task<Mailbox?> FindMailboxAsync(EmailAddress address, CancellationToken cancellationToken);

    Task<IReadOnlyList<Mailbox>> ListMailboxesAsync(string? domain, CancellationToken cancellationToken);

    /// <summary>Adds (or with <paramref name="replaceExisting"/> re-hashes) all mailboxes in one transaction, or none.</summary>
    Task ImportAsync(
        IReadOnlyList<ImportedMailbox> mailboxes,
        bool createDomains,
        bool replaceExisting,
        IProgress<int>? progress,
        CancellationToken cancellationToken);
}
