using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

/// <summary>
/// Storage quotas in bytes: a mailbox's own, else its domain's default; null is unlimited. Read
/// at each delivery rather than cached, so that a quota set with the CLI counts at once.
/// </summary>
public interface IMailboxQuotas
{
    /// <summary>The quota that applies to <paramref name="address"/> (null: unlimited, or no such mailbox).</summary>
    Task<long?> FindLimitAsync(EmailAddress address, CancellationToken cancellationToken);

    /// <summary>Sets or (null) clears a mailbox's own quota; <see cref="CredentialOperationException"/> when there is no such mailbox.</summary>
    Task SetMailboxQuotaAsync(EmailAddress address, long? bytes, CancellationToken cancellationToken);

    /// <summary>Sets or (null) clears a domain's default quota; <see cref="CredentialOperationException"/> when there is no such domain.</summary>
    Task SetDomainQuotaAsync(string domain, long? bytes, CancellationToken cancellationToken);
}
