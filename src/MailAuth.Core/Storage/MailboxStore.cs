using System.Data;
using System.Data.Common;
using System.Globalization;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Mailboxes;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Storage;

/// <summary>
/// Domains and mailboxes as the admin changes them. Every change is one transaction that also
/// writes its audit row and lets the manager-account side react (<see cref="IMailboxChangeHook"/>).
/// </summary>
internal sealed class MailboxStore : IMailboxCredentialStore, IMailboxDirectory
{
    private readonly StoreDatabase _database;
    private readonly TimeProvider _clock;
    private readonly StoreJournal _journal;
    private readonly IReadOnlyList<IMailboxChangeHook> _hooks;
    private readonly MailboxCredentialStore _credentials;

    public MailboxStore(StoreDatabase database, TimeProvider clock)
        : this(database, clock, new StoreJournal(database, clock, NullLogger<StoreJournal>.Instance), [])
    {
    }

    internal MailboxStore(StoreDatabase database, TimeProvider clock, StoreJournal journal, IEnumerable<IMailboxChangeHook> hooks)
    {
        _database = database;
        _clock = clock;
        _journal = journal;
        _hooks = [.. hooks];
        _credentials = new MailboxCredentialStore(database, clock);
    }

    public Task<MailboxCredential?> FindAsync(EmailAddress address, CancellationToken cancellationToken) =>
        _credentials.FindAsync(address, cancellationToken);

    public Task<bool> TryUpgradeHashAsync(MailboxCredential verified, string newHash, CancellationToken cancellationToken) =>
        _credentials.TryUpgradeHashAsync(verified, newHash, cancellationToken);

    public Task AddDomainAsync(string domain, CancellationToken cancellationToken) =>
        AddDomainAsync(domain, defaultNode: null, cancellationToken);

    public async Task AddDomainAsync(string domain, string? defaultNode, CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var transaction = await _database.BeginWriteAsync(connection, cancellationToken);
        try
        {
            var id = await InsertDomainAsync(connection, transaction, domain, Now(), cancellationToken);
            if (defaultNode is not null)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "UPDATE domains SET default_node = @node WHERE id = @id";
                command.AddParameter("@node", defaultNode);
                command.AddParameter("@id", id);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        catch (DbException e) when (_database.IsUniqueViolation(e))
        {
            throw new CredentialOperationException($"domain {domain} already exists", CredentialRefusal.Conflict);
        }
        await _journal.AuditAsync(connection, transaction, Actor.Admin, "domain.added", domain, "admin request", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<EmailAddress>> RemoveDomainAsync(string domain, bool includingMailboxes, CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var transaction = await _database.BeginWriteAsync(connection, cancellationToken);
        var domainId = await FindDomainIdAsync(connection, transaction, domain, cancellationToken)
            ?? throw new CredentialOperationException($"domain {domain} does not exist", CredentialRefusal.NotFound);

        var mailboxes = new List<MailboxRow>();
        await using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id, address FROM mailboxes WHERE domain_id = @id ORDER BY address";
            select.AddParameter("@id", domainId);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                mailboxes.Add(new MailboxRow(reader.GetInt64(0), EmailAddress.Parse(reader.GetString(1))));
            }
        }
        if (mailboxes.Count > 0 && !includingMailboxes)
        {
            throw new CredentialOperationException(
                $"domain {domain} still has {mailboxes.Count} mailbox(es); remove them first or pass --with-mailboxes");
        }

        await RemoveMailboxRowsAsync(connection, transaction, mailboxes, $"mail service of {domain} cancelled", cancellationToken);
        foreach (var hook in _hooks)
        {
            await hook.OnDomainRemovingAsync(connection, transaction, domain, cancellationToken);
        }
        await using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM domains WHERE id = @id";
            delete.AddParameter("@id", domainId);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await _journal.AuditAsync(connection, transaction, Actor.Admin, "domain.removed", domain,
            $"admin request, with {mailboxes.Count} mailbox(es)", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return [.. mailboxes.Select(m => m.Address)];
    }

    public async Task<IReadOnlyList<Domain>> ListDomainsAsync(CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT d.name, d.created_at, (SELECT COUNT(*) FROM mailboxes m WHERE m.domain_id = d.id), d.default_quota_bytes, d.default_node
            FROM domains d ORDER BY d.name
            """;
        var domains = new List<Domain>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            domains.Add(new Domain(reader.GetString(0), ParseTime(reader.GetString(1)), (int)reader.GetInt64(2),
                await reader.IsDBNullAsync(3, cancellationToken) ? null : reader.GetInt64(3),
                await reader.IsDBNullAsync(4, cancellationToken) ? null : reader.GetString(4)));
        }
        return domains;
    }

    public Task AddMailboxAsync(EmailAddress address, string passwordHash, CancellationToken cancellationToken) =>
        AddMailboxAsync(address, passwordHash, homeNode: null, cancellationToken);

    public async Task AddMailboxAsync(EmailAddress address, string passwordHash, string? homeNode, CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var transaction = await _database.BeginWriteAsync(connection, cancellationToken);
        var domainId = await FindDomainIdAsync(connection, transaction, address.Domain, cancellationToken)
            ?? throw new CredentialOperationException($"domain {address.Domain} does not exist; add it first with 'domain add {address.Domain}'");
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO mailboxes (domain_id, address, password_hash, created_at, updated_at, home_node)
                VALUES (@domain, @address, @hash, @now, @now, @node)
                """;
            command.AddParameter("@domain", domainId);
            command.AddParameter("@node", DbType.String).Value = (object?)homeNode ?? DBNull.Value;
            command.AddParameter("@address", address.ToString());
            command.AddParameter("@hash", passwordHash);
            command.AddParameter("@now", Now());
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (DbException e) when (_database.IsUniqueViolation(e))
            {
                throw new CredentialOperationException($"mailbox {address} already exists", CredentialRefusal.Conflict);
            }
        }
        await _journal.AuditAsync(connection, transaction, Actor.Admin, "mailbox.added", address.ToString(), "admin request", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public Task SetPasswordHashAsync(EmailAddress address, string passwordHash, bool endSessions, CancellationToken cancellationToken) =>
        SetPasswordHashAsync(address, passwordHash, endSessions, Actor.Admin, "admin reset", "mailbox password reset by the admin", cancellationToken);

    public Task ChangePasswordHashByHolderAsync(EmailAddress address, string passwordHash, string client, CancellationToken cancellationToken) =>
        SetPasswordHashAsync(address, passwordHash, endSessions: true, Actor.MailboxHolder(address.ToString()),
            "changed by the holder from " + client, "mailbox password changed by its holder", cancellationToken);

    private async Task SetPasswordHashAsync(
        EmailAddress address, string passwordHash, bool endSessions, Actor actor, string auditReason, string hookReason, CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var transaction = await _database.BeginWriteAsync(connection, cancellationToken);
        var mailbox = await UpdateMailboxAsync(
            connection, transaction, address, "password_hash = @value, credential_version = credential_version + 1", passwordHash, cancellationToken);
        await MailboxChangeLog.RecordAsync(connection, transaction, address, MailboxChangeKind.PasswordChanged, endSessions, _clock.GetUtcNow(), cancellationToken);
        foreach (var hook in _hooks)
        {
            await hook.OnMailboxPasswordSetAsync(connection, transaction, mailbox, actor, hookReason, cancellationToken);
        }
        await _journal.AuditAsync(connection, transaction, actor, "mailbox.password-changed", address.ToString(), auditReason, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task SetDisabledAsync(EmailAddress address, string? reason, CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var transaction = await _database.BeginWriteAsync(connection, cancellationToken);
        await UpdateMailboxAsync(
            connection, transaction, address, "disabled_reason = @value, credential_version = credential_version + 1", reason, cancellationToken);
        // Disabling ends the mailbox's sessions; enabling has none to end.
        await MailboxChangeLog.RecordAsync(connection, transaction, address,
            reason is null ? MailboxChangeKind.Enabled : MailboxChangeKind.Disabled, endsSessions: reason is not null, _clock.GetUtcNow(), cancellationToken);
        await _journal.AuditAsync(connection, transaction, Actor.Admin,
            reason is null ? "mailbox.enabled" : "mailbox.disabled", address.ToString(), reason ?? "admin request", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task RemoveMailboxAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var transaction = await _database.BeginWriteAsync(connection, cancellationToken);
        var id = await FindMailboxIdAsync(connection, transaction, address, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {address} does not exist", CredentialRefusal.NotFound);
        await RemoveMailboxRowsAsync(connection, transaction, [new MailboxRow(id, address)], "mailbox deleted", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<Mailbox?> FindMailboxAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        var found = await QueryMailboxesAsync("WHERE m.address = @filter", address.ToString(), cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<Mailbox>> ListMailboxesAsync(string? domain, CancellationToken cancellationToken) =>
        domain is null
            ? QueryMailboxesAsync("", null, cancellationToken)
            : QueryMailboxesAsync("WHERE d.name = @filter", domain, cancellationToken);

    public async Task ImportAsync(
        IReadOnlyList<ImportedMailbox> mailboxes,
        bool createDomains,
        bool replaceExisting,
        IProgress<int>? progress,
        CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var transaction = await _database.BeginWriteAsync(connection, cancellationToken);
        var domainIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var now = Now();

        await using var upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        // RETURNING tells an insert (credential_version 1) from a replaced password (> 1).
        upsert.CommandText = replaceExisting
            ? """
              INSERT INTO mailboxes (domain_id, address, password_hash, created_at, updated_at)
              VALUES (@domain, @address, @hash, @now, @now)
              ON CONFLICT (address) DO UPDATE SET
                  password_hash = excluded.password_hash,
                  credential_version = mailboxes.credential_version + 1,
                  updated_at = excluded.updated_at
              RETURNING id, credential_version
              """
            : """
              INSERT INTO mailboxes (domain_id, address, password_hash, created_at, updated_at)
              VALUES (@domain, @address, @hash, @now, @now)
              RETURNING id, credential_version
              """;
        var domainParameter = upsert.AddParameter("@domain", DbType.Int64);
        var addressParameter = upsert.AddParameter("@address", DbType.String);
        var hashParameter = upsert.AddParameter("@hash", DbType.String);
        upsert.AddParameter("@now", now);
        await upsert.PrepareAsync(cancellationToken);

        var replaced = new List<MailboxRow>();
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
                await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                if (reader.GetInt64(1) > 1)
                {
                    replaced.Add(new MailboxRow(reader.GetInt64(0), mailbox.Address));
                }
            }
            catch (DbException e) when (_database.IsUniqueViolation(e))
            {
                throw new CredentialOperationException($"mailbox {mailbox.Address} already exists", CredentialRefusal.Conflict);
            }
            if ((i + 1) % 1000 == 0)
            {
                progress?.Report(i + 1);
            }
        }
        foreach (var row in replaced)
        {
            await MailboxChangeLog.RecordAsync(connection, transaction, row.Address, MailboxChangeKind.PasswordChanged, endsSessions: true, _clock.GetUtcNow(), cancellationToken);
            foreach (var hook in _hooks)
            {
                await hook.OnMailboxPasswordSetAsync(connection, transaction, row, Actor.Admin, "mailbox password replaced by an import", cancellationToken);
            }
        }
        await _journal.AuditAsync(connection, transaction, Actor.Admin, "mailbox.imported", $"{mailboxes.Count} mailbox(es)",
            $"passwd-file import, {replaced.Count} password(s) replaced", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        progress?.Report(mailboxes.Count);
    }

    private async Task RemoveMailboxRowsAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<MailboxRow> mailboxes, string reason,
        CancellationToken cancellationToken)
    {
        if (mailboxes.Count == 0)
        {
            return;
        }
        foreach (var hook in _hooks)
        {
            await hook.OnMailboxesRemovingAsync(connection, transaction, mailboxes, reason, cancellationToken);
        }
        await using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM mailboxes WHERE id = @id";
        var id = delete.AddParameter("@id", DbType.Int64);
        foreach (var mailbox in mailboxes)
        {
            id.Value = mailbox.Id;
            await delete.ExecuteNonQueryAsync(cancellationToken);
            await MailboxChangeLog.RecordAsync(connection, transaction, mailbox.Address, MailboxChangeKind.Removed, endsSessions: true, _clock.GetUtcNow(), cancellationToken);
            await _journal.AuditAsync(connection, transaction, Actor.Admin, "mailbox.removed", mailbox.Address.ToString(), reason, cancellationToken);
        }
    }

    private async Task<MailboxRow> UpdateMailboxAsync(
        DbConnection connection, DbTransaction transaction, EmailAddress address, string assignments, string? value,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"UPDATE mailboxes SET {assignments}, updated_at = @now WHERE address = @address RETURNING id";
        command.AddParameter("@value", (object?)value ?? DBNull.Value);
        command.AddParameter("@now", Now());
        command.AddParameter("@address", address.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is long id
            ? new MailboxRow(id, address)
            : throw new CredentialOperationException($"mailbox {address} does not exist", CredentialRefusal.NotFound);
    }

    private async Task<IReadOnlyList<Mailbox>> QueryMailboxesAsync(string where, string? filter, CancellationToken cancellationToken)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT m.address, m.disabled_reason, m.password_hash, m.created_at, m.updated_at, m.quota_bytes, d.default_quota_bytes,
                m.home_node, d.default_node
            FROM mailboxes m JOIN domains d ON d.id = m.domain_id {where} ORDER BY d.name, m.address
            """;
        if (filter is not null)
        {
            command.AddParameter("@filter", filter);
        }
        var mailboxes = new List<Mailbox>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            mailboxes.Add(new Mailbox(
                EmailAddress.Parse(reader.GetString(0)),
                await reader.IsDBNullAsync(1, cancellationToken) ? null : reader.GetString(1),
                SchemeOf(reader.GetString(2)),
                ParseTime(reader.GetString(3)),
                ParseTime(reader.GetString(4)),
                await reader.IsDBNullAsync(5, cancellationToken) ? null : reader.GetInt64(5),
                await reader.IsDBNullAsync(6, cancellationToken) ? null : reader.GetInt64(6),
                await reader.IsDBNullAsync(7, cancellationToken) ? null : reader.GetString(7),
                await reader.IsDBNullAsync(8, cancellationToken) ? null : reader.GetString(8)));
        }
        return mailboxes;
    }

    private static async Task<long?> FindDomainIdAsync(
        DbConnection connection, DbTransaction transaction, string domain, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id FROM domains WHERE name = @name";
        command.AddParameter("@name", domain);
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    private static async Task<long?> FindMailboxIdAsync(
        DbConnection connection, DbTransaction transaction, EmailAddress address, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id FROM mailboxes WHERE address = @address";
        command.AddParameter("@address", address.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    private static async Task<long> InsertDomainAsync(
        DbConnection connection, DbTransaction transaction, string domain, string now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO domains (name, created_at) VALUES (@name, @now) RETURNING id";
        command.AddParameter("@name", domain);
        command.AddParameter("@now", now);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The scheme name of a stored <c>{SCHEME}…</c> hash, for listings; never the hash itself.</summary>
    private static string SchemeOf(string storedHash)
    {
        var end = storedHash.IndexOf('}', StringComparison.Ordinal);
        return storedHash.StartsWith('{') && end > 1 ? storedHash[1..end] : "UNKNOWN";
    }

    private string Now() => _clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
