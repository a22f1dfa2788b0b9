using System.Data.Common;
using System.Globalization;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Notifications;

namespace MailAuth.Core.Storage;

/// <summary>
/// Manager accounts, their grants to mailboxes and unifications. Each change is one transaction
/// with its audit rows and notifications. As <see cref="IMailboxChangeHook"/> it dissolves
/// unifications and starts login-identifier recovery inside the admin's mailbox transactions.
/// </summary>
internal sealed partial class ManagerAccountStore(StoreDatabase database, StoreJournal journal, TimeProvider clock) : IMailboxChangeHook
{
    private const string AccountColumns =
        "id, login, recovery_username, password_hash, name, phone, secondary_email, totp_secret, credential_version, totp_locked_until";

    /// <summary>The purpose 2FA secrets are sealed for (<see cref="SecretBox"/>).</summary>
    private const string TotpPurpose = "totp";

    /// <summary>Wrong 2FA codes given with the right password before 2FA locks: enough for a person fumbling with the app.</summary>
    public const int TotpFailuresBeforeLock = 5;

    /// <summary>How long 2FA stays locked: a guesser gets five codes per quarter hour, a million codes need years.</summary>
    public static readonly TimeSpan TotpLockTime = TimeSpan.FromMinutes(15);

    public async Task AddAsync(
        EmailAddress login, string passwordHash, string name, string phone, EmailAddress secondaryEmail, Actor actor,
        CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO accounts (login, password_hash, name, phone, secondary_email, created_at, updated_at)
                VALUES (@login, @hash, @name, @phone, @secondary, @now, @now)
                """;
            command.AddParameter("@login", login.ToString());
            command.AddParameter("@hash", passwordHash);
            command.AddParameter("@name", name);
            command.AddParameter("@phone", phone);
            command.AddParameter("@secondary", secondaryEmail.ToString());
            command.AddParameter("@now", Now());
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (DbException e) when (database.IsUniqueViolation(e))
            {
                throw new CredentialOperationException($"an account with login identifier {login} already exists", CredentialRefusal.Conflict);
            }
        }
        await journal.AuditAsync(connection, transaction, actor, "account.added", login.ToString(), "account created", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>An active account by login identifier, or one in recovery by its recovery username.</summary>
    public async Task<AccountRecord?> FindAsync(string identifier, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await FindAsync(connection, null, identifier, cancellationToken);
    }

    public async Task<IReadOnlyList<AccountRecord>> FindByPhoneAsync(string phone, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AccountColumns} FROM accounts WHERE phone = @phone ORDER BY id";
        command.AddParameter("@phone", phone);
        return await ReadAccountsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<ManagerAccount>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AccountColumns} FROM accounts ORDER BY coalesce(login, recovery_username)";
        var accounts = new List<ManagerAccount>();
        foreach (var record in await ReadAccountsAsync(command, cancellationToken))
        {
            accounts.Add(await DescribeAsync(connection, record, cancellationToken));
        }
        return accounts;
    }

    public async Task<ManagerAccount> DescribeAsync(AccountRecord account, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await DescribeAsync(connection, account, cancellationToken);
    }

    /// <summary>
    /// The account's own password; its unified mailbox (if any, checked inside the transaction)
    /// gets <paramref name="mailboxHash"/>, a hash of the same password with its own salt.
    /// </summary>
    public async Task<EmailAddress?> SetAccountPasswordAsync(
        AccountRecord account, string accountHash, string mailboxHash, Actor actor, string reason, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await SetAccountHashAsync(connection, transaction, account.Id, accountHash, cancellationToken);
        var unified = await UnifiedMailboxAsync(connection, transaction, account.Id, cancellationToken);
        if (unified is { } mailbox)
        {
            await SetMailboxHashAsync(connection, transaction, mailbox.Id, mailboxHash, cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, actor, "account.password-changed", account.Identifier,
            unified is null ? reason : $"{reason}; unified mailbox {unified.Value.Address} changed too", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return unified?.Address;
    }

    public async Task<bool> TryUpgradeHashAsync(AccountRecord account, string newHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE accounts SET password_hash = @new, updated_at = @now
            WHERE id = @id AND credential_version = @version AND password_hash = @old
            """;
        command.AddParameter("@new", newHash);
        command.AddParameter("@now", Now());
        command.AddParameter("@id", account.Id);
        command.AddParameter("@version", account.CredentialVersion);
        command.AddParameter("@old", account.PasswordHash);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private async Task<ManagerAccount> DescribeAsync(DbConnection connection, AccountRecord account, CancellationToken cancellationToken)
    {
        var grants = new List<AccountGrant>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT m.address, g.can_change_password FROM account_grants g JOIN mailboxes m ON m.id = g.mailbox_id
                WHERE g.account_id = @account ORDER BY m.address
                """;
            command.AddParameter("@account", account.Id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                grants.Add(new AccountGrant(EmailAddress.Parse(reader.GetString(0)), reader.GetBoolean(1)));
            }
        }
        string? formerLogin;
        await using (var former = connection.CreateCommand())
        {
            former.CommandText = "SELECT former_login FROM accounts WHERE id = @id";
            former.AddParameter("@id", account.Id);
            formerLogin = await former.ExecuteScalarAsync(cancellationToken) as string;
        }
        var unified = await UnifiedMailboxAsync(connection, null, account.Id, cancellationToken);
        return new ManagerAccount(
            account.Login, account.RecoveryUsername, formerLogin is null ? null : EmailAddress.Parse(formerLogin),
            account.Name, account.Phone, account.SecondaryEmail, account.TotpSecret is not null, grants, unified?.Address, account.CredentialVersion);
    }

    private async Task<AccountRecord?> FindAsync(
        DbConnection connection, DbTransaction? transaction, string identifier, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {AccountColumns} FROM accounts WHERE login = @identifier OR recovery_username = @identifier";
        command.AddParameter("@identifier", identifier);
        return (await ReadAccountsAsync(command, cancellationToken)).SingleOrDefault();
    }

    private async Task SetAccountHashAsync(
        DbConnection connection, DbTransaction transaction, long accountId, string hash, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE accounts SET password_hash = @hash, credential_version = credential_version + 1, updated_at = @now WHERE id = @id";
        command.AddParameter("@hash", hash);
        command.AddParameter("@now", Now());
        command.AddParameter("@id", accountId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        // A new password, whatever set it, ends every reset token still outstanding.
        await InvalidateResetTokensAsync(connection, transaction, accountId, cancellationToken);
    }

    private async Task<IReadOnlyList<AccountRecord>> ReadAccountsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var accounts = new List<AccountRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            accounts.Add(new AccountRecord(
                reader.GetInt64(0),
                await reader.IsDBNullAsync(1, cancellationToken) ? null : EmailAddress.Parse(reader.GetString(1)),
                await reader.IsDBNullAsync(2, cancellationToken) ? null : reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.GetString(6),
                await reader.IsDBNullAsync(7, cancellationToken) ? null : OpenTotpSecret((byte[])reader.GetValue(7)),
                reader.GetInt64(8),
                await reader.IsDBNullAsync(9, cancellationToken) ? null : ParseTime(reader.GetString(9))));
        }
        return accounts;
    }

    private string Now() => clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
