using System.Globalization;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using Microsoft.Data.Sqlite;

namespace MailAuth.Core.Storage;

public sealed class SqliteMailboxStore(SqliteDatabase database, TimeProvider clock) : IMailboxCredentialStore, IMailboxDirectory
{
    private const int SqliteConstraintUnique = 2067;

    public async Task<MailboxCredential?> FindAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT password_hash, disabled_reason IS NOT NULL, credential_version FROM mailboxes WHERE address = $address";
        command.Parameters.AddWithValue("$address", address.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new MailboxCredential(address, reader.GetString(0), reader.GetBoolean(1), reader.GetInt64(2));
    }

    public async Task<bool> TryUpgradeHashAsync(MailboxCredential verified, string newHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE mailboxes SET password_hash = $new, updated_at = $now
            WHERE address = $address AND credential_version = $version AND password_hash = $old
            """;
        command.Parameters.AddWithValue("$new", newHash);
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$address", verified.Address.ToString());
        command.Parameters.AddWithValue("$version", verified.CredentialVersion);
        command.Parameters.AddWithValue("$old", verified.PasswordHash);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task AddDomainAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO domains (name, created_at) VALUES ($name, $now)";
        command.Parameters.AddWithValue("$name", domain);
        command.Parameters.AddWithValue("$now", Now());
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintUnique)
        {
            throw new CredentialOperationException($"domain {domain} already exists");
        }
    }

    public async Task<IReadOnlyList<EmailAddress>> RemoveDomainAsync(string domain, bool includingMailboxes, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var domainId = await FindDomainIdAsync(connection, transaction, domain, cancellationToken)
            ?? throw new CredentialOperationException($"domain {domain} does not exist");

        var removed = new List<EmailAddress>();
        await using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT address FROM mailboxes WHERE domain_id = $id ORDER BY address";
            select.Parameters.AddWithValue("$id", domainId);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                removed.Add(EmailAddress.Parse(reader.GetString(0)));
            }
        }
        if (removed.Count > 0 && !includingMailboxes)
        {
            throw new CredentialOperationException(
                $"domain {domain} still has {removed.Count} mailbox(es); remove them first or pass --with-mailboxes");
        }

        await using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM mailboxes WHERE domain_id = $id; DELETE FROM domains WHERE id = $id;";
            delete.Parameters.AddWithValue("$id", domainId);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return removed;
    }

    public async Task<IReadOnlyList<Domain>> ListDomainsAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT d.name, d.created_at, (SELECT COUNT(*) FROM mailboxes m WHERE m.domain_id = d.id)
            FROM domains d ORDER BY d.name
            """;
        var domains = new List<Domain>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            domains.Add(new Domain(reader.GetString(0), ParseTime(reader.GetString(1)), reader.GetInt32(2)));
        }
        return domains;
    }

    public async Task AddMailboxAsync(EmailAddress address, string passwordHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var domainId = await FindDomainIdAsync(connection, transaction, address.Domain, cancellationToken)
            ?? throw new CredentialOperationException($"domain {address.Domain} does not exist; add it first with 'domain add {address.Domain}'");
        try
        {
            await InsertMailboxAsync(connection, transaction, domainId, address, passwordHash, cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintUnique)
        {
            throw new CredentialOperationException($"mailbox {address} already exists");
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public Task SetPasswordHashAsync(EmailAddress address, string passwordHash, CancellationToken cancellationToken) =>
        UpdateMailboxAsync(
            address,
            "password_hash = $value, credential_version = credential_version + 1",
            passwordHash,
            cancellationToken);

    public Task SetDisabledAsync(EmailAddress address, string? reason, CancellationToken cancellationToken) =>
        UpdateMailboxAsync(
            address,
            "disabled_reason = $value, credential_version = credential_version + 1",
            reason,
            cancellationToken);

    public async Task RemoveMailboxAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM mailboxes WHERE address = $address";
        command.Parameters.AddWithValue("$address", address.ToString());
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new CredentialOperationException($"mailbox {address} does not exist");
        }
    }

    public async Task<Mailbox?> FindMailboxAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        var found = await QueryMailboxesAsync("WHERE m.address = $filter", address.ToString(), cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<Mailbox>> ListMailboxesAsync(string? domain, CancellationToken cancellationToken) =>
        domain is null
            ? QueryMailboxesAsync("", null, cancellationToken)
            : QueryMailboxesAsync("WHERE d.name = $filter", domain, cancellationToken);

    public async Task ImportAsync(
        IReadOnlyList<ImportedMailbox> mailboxes,
        bool createDomains,
        bool replaceExisting,
        IProgress<int>? progress,
        CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var domainIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var now = Now();

        await using var upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = replaceExisting
            ? """
              INSERT INTO mailboxes (domain_id, address, password_hash, created_at, updated_at)
              VALUES ($domain, $address, $hash, $now, $now)
              ON CONFLICT (address) DO UPDATE SET
                  password_hash = excluded.password_hash,
                  credential_version = credential_version + 1,
                  updated_at = excluded.updated_at
              """
            : """
              INSERT INTO mailboxes (domain_id, address, password_hash, created_at, updated_at)
              VALUES ($domain, $address, $hash, $now, $now)
              """;
        var domainParameter = upsert.Parameters.Add("$domain", SqliteType.Integer);
        var addressParameter = upsert.Parameters.Add("$address", SqliteType.Text);
        var hashParameter = upsert.Parameters.Add("$hash", SqliteType.Text);
        upsert.Parameters.AddWithValue("$now", now);
        upsert.Prepare();

        for (var i = 0; i < mailboxes.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var mailbox = mailboxes[i];
            if (!domainIds.TryGetValue(mailbox.Address.Domain, out var domainId))
            {
                domainId = await FindDomainIdAsync(connection, transaction, mailbox.Address.Domain, cancellationToken)
                    ?? (createDomains
                        ? await InsertDomainAsync(connection, transaction, mailbox.Address.Domain, now, cancellationToken)
                        : throw new CredentialOperationException($"domain {mailbox.Address.Domain} does not exist (for {mailbox.Address})"));
                domainIds[mailbox.Address.Domain] = domainId;
            }
            domainParameter.Value = domainId;
            addressParameter.Value = mailbox.Address.ToString();
            hashParameter.Value = mailbox.PasswordHash;
            try
            {
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintUnique)
            {
                throw new CredentialOperationException($"mailbox {mailbox.Address} already exists");
            }
            if ((i + 1) % 1000 == 0)
            {
                progress?.Report(i + 1);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        progress?.Report(mailboxes.Count);
    }

    private async Task UpdateMailboxAsync(EmailAddress address, string assignments, string? value, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE mailboxes SET {assignments}, updated_at = $now WHERE address = $address";
        command.Parameters.AddWithValue("$value", (object?)value ?? DBNull.Value);
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$address", address.ToString());
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new CredentialOperationException($"mailbox {address} does not exist");
        }
    }

    private async Task<IReadOnlyList<Mailbox>> QueryMailboxesAsync(string where, string? filter, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT m.address, m.disabled_reason, m.password_hash, m.created_at, m.updated_at
            FROM mailboxes m JOIN domains d ON d.id = m.domain_id {where} ORDER BY d.name, m.address
            """;
        if (filter is not null)
        {
            command.Parameters.AddWithValue("$filter", filter);
        }
        var mailboxes = new List<Mailbox>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            mailboxes.Add(new Mailbox(
                EmailAddress.Parse(reader.GetString(0)),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                SchemeOf(reader.GetString(2)),
                ParseTime(reader.GetString(3)),
                ParseTime(reader.GetString(4))));
        }
        return mailboxes;
    }

    private static async Task<long?> FindDomainIdAsync(
        SqliteConnection connection, SqliteTransaction transaction, string domain, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id FROM domains WHERE name = $name";
        command.Parameters.AddWithValue("$name", domain);
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    private static async Task<long> InsertDomainAsync(
        SqliteConnection connection, SqliteTransaction transaction, string domain, string now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO domains (name, created_at) VALUES ($name, $now) RETURNING id";
        command.Parameters.AddWithValue("$name", domain);
        command.Parameters.AddWithValue("$now", now);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task InsertMailboxAsync(
        SqliteConnection connection,
        SqliteTransaction transaction,
        long domainId,
        EmailAddress address,
        string passwordHash,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO mailboxes (domain_id, address, password_hash, created_at, updated_at)
            VALUES ($domain, $address, $hash, $now, $now)
            """;
        command.Parameters.AddWithValue("$domain", domainId);
        command.Parameters.AddWithValue("$address", address.ToString());
        command.Parameters.AddWithValue("$hash", passwordHash);
        command.Parameters.AddWithValue("$now", Now());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The scheme name of a stored <c>{SCHEME}…</c> hash, for listings; never the hash itself.</summary>
    private static string SchemeOf(string storedHash)
    {
        var end = storedHash.IndexOf('}', StringComparison.Ordinal);
        return storedHash.StartsWith('{') && end > 1 ? storedHash[1..end] : "UNKNOWN";
    }

    private string Now() => clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
