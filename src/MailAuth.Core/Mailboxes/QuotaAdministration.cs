using MailAuth.Core.Addresses;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Mailboxes;

/// <summary>The admin's quota changes (CLI <c>mailbox quota</c>, <c>domain quota</c>): names normalised as for the other verbs, each change logged.</summary>
public sealed partial class QuotaAdministration(IMailboxQuotas quotas, ILogger<QuotaAdministration> logger)
{
    public async Task<EmailAddress> SetMailboxQuotaAsync(string address, long? bytes, CancellationToken cancellationToken)
    {
        var parsed = EmailAddress.Parse(address);
        await quotas.SetMailboxQuotaAsync(parsed, bytes, cancellationToken);
        LogChange(parsed.ToString(), QuotaSize.Format(bytes));
        return parsed;
    }

    public async Task<string> SetDomainQuotaAsync(string domain, long? bytes, CancellationToken cancellationToken)
    {
        var name = AddressNormalizer.TryNormalizeDomain(domain, out var normalized, out var error)
            ? normalized
            : throw new CredentialOperationException($"invalid domain '{AddressNormalizer.Printable(domain)}': {error}");
        await quotas.SetDomainQuotaAsync(name, bytes, cancellationToken);
        LogChange(name, QuotaSize.Format(bytes));
        return name;
    }

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "admin: quota of {Subject} set to {Quota}")]
    private partial void LogChange(string subject, string quota);
}
