using System.Data;
using System.Data.Common;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>Quotas in the mailbox and domain rows; each change is one transaction with its audit row.</summary>
internal sealed class MailboxQuotaStore(StoreDatabase database, StoreJournal journal) : IMailboxQuotas
{
    public async Task<long?> FindLimitAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT coalesce(m.quota_bytes, d.default_quota_bytes)
            FROM mailboxes m JOIN domains d ON d.id = m.domain_id WHERE m.address = @address
            """;
        command.AddParameter("@address", address.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is long bytes ? bytes : null;
    }

    public Task SetMailboxQuotaAsync(EmailAddress address, long? bytes, CancellationToken cancellationToken) =>
        SetAsync("UPDATE mailboxes SET quota_bytes = @bytes WHERE address = @name", address.ToString(), bytes,
            "mailbox.quota-changed", $"mailbox {address} does not exist", cancellationToken);

    public Task SetDomainQuotaAsync(string domain, long? bytes, CancellationToken cancellationToken) =>
        SetAsync("UPDATE domains SET default_quota_bytes = @bytes WHERE name = @name", domain, bytes,
            "domain.quota-changed", $"domain {domain} does not exist", cancellationToken);

    private async Task SetAsync(string update, string name, long? bytes, string auditEvent, string missing, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes ?? 0, nameof(bytes));
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = update;
            command.AddParameter("@bytes", DbType.Int64).Value = (object?)bytes ?? DBNull.Value;
            command.AddParameter("@name", name);
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new CredentialOperationException(missing);
            }
        }
        await journal.AuditAsync(connection, transaction, Actor.Admin, auditEvent, name,
            "admin request: quota " + QuotaSize.Format(bytes), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
