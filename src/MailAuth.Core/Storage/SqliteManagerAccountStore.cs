using System.Globalization;
using System.Security.Cryptography;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Authentication;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Notifications;
using Microsoft.Data.Sqlite;

namespace MailAuth.Core.Storage;

/// <summary>
/// Manager accounts, their grants to mailboxes and unifications. Each change is one transaction
/// with its audit rows and notifications. As <see cref="IMailboxChangeHook"/> it dissolves
/// unifications and starts login-identifier recovery inside the admin's mailbox transactions.
/// </summary>
internal sealed class SqliteManagerAccountStore(SqliteDatabase database, SqliteJournal journal, TimeProvider clock) : IMailboxChangeHook
{
    private const int SqliteConstraintUnique = 2067;
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
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO accounts (login, password_hash, name, phone, secondary_email, created_at, updated_at)
                VALUES ($login, $hash, $name, $phone, $secondary, $now, $now)
                """;
            command.Parameters.AddWithValue("$login", login.ToString());
            command.Parameters.AddWithValue("$hash", passwordHash);
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$phone", phone);
            command.Parameters.AddWithValue("$secondary", secondaryEmail.ToString());
            command.Parameters.AddWithValue("$now", Now());
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintUnique)
            {
                throw new CredentialOperationException($"an account with login identifier {login} already exists");
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
        command.CommandText = $"SELECT {AccountColumns} FROM accounts WHERE phone = $phone ORDER BY id";
        command.Parameters.AddWithValue("$phone", phone);
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

    public async Task<UnificationConditions> EvaluateAsync(AccountRecord account, EmailAddress mailbox, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        var mailboxId = await FindMailboxIdAsync(connection, null, mailbox, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {mailbox} does not exist");
        return await EvaluateAsync(connection, null, account, mailbox, mailboxId, cancellationToken);
    }

    public async Task GrantAsync(AccountRecord account, EmailAddress mailbox, bool canChangePassword, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var mailboxId = await FindMailboxIdAsync(connection, transaction, mailbox, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {mailbox} does not exist");
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO account_grants (account_id, mailbox_id, can_change_password) VALUES ($account, $mailbox, $can)
                ON CONFLICT (account_id, mailbox_id) DO UPDATE SET can_change_password = excluded.can_change_password
                """;
            command.Parameters.AddWithValue("$account", account.Id);
            command.Parameters.AddWithValue("$mailbox", mailboxId);
            command.Parameters.AddWithValue("$can", canChangePassword);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, actor, "account.granted", $"{account.Identifier} -> {mailbox}",
            canChangePassword ? "webmail access and permission to change the password" : "webmail access only", cancellationToken);

        // DESIGN.md §1: a second account with access, or a revoked permission, ends a unification.
        await DissolveAsync(connection, transaction, "mailbox_id = $mailbox AND account_id <> $account", account.Id, mailboxId,
            actor, "a second manager account was granted access to the mailbox", cancellationToken);
        if (!canChangePassword)
        {
            await DissolveAsync(connection, transaction, "mailbox_id = $mailbox AND account_id = $account", account.Id, mailboxId,
                actor, "the permission to change the mailbox password was revoked", cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task RevokeAsync(AccountRecord account, EmailAddress mailbox, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var mailboxId = await FindMailboxIdAsync(connection, transaction, mailbox, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {mailbox} does not exist");
        await DissolveAsync(connection, transaction, "mailbox_id = $mailbox AND account_id = $account", account.Id, mailboxId,
            actor, "the account's access to the mailbox was revoked", cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM account_grants WHERE account_id = $account AND mailbox_id = $mailbox";
            command.Parameters.AddWithValue("$account", account.Id);
            command.Parameters.AddWithValue("$mailbox", mailboxId);
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new CredentialOperationException($"account {account.Identifier} has no access to {mailbox}");
            }
        }
        await journal.AuditAsync(connection, transaction, actor, "account.revoked", $"{account.Identifier} -> {mailbox}", "access removed", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The account's own password; its unified mailbox (if any, checked inside the transaction)
    /// gets <paramref name="mailboxHash"/>, a hash of the same password with its own salt.
    /// </summary>
    public async Task<EmailAddress?> SetAccountPasswordAsync(
        AccountRecord account, string accountHash, string mailboxHash, Actor actor, string reason, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
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

    /// <summary>
    /// The account holder sets a mailbox password. Returns what happened to the pair; nothing is
    /// written when the holder lacks the permission or asks to unify where a condition fails.
    /// </summary>
    public async Task<MailboxPasswordOutcome> SetMailboxPasswordAsync(
        AccountRecord account, EmailAddress mailbox, string mailboxHash, string accountHash, bool unify, CancellationToken cancellationToken)
    {
        var actor = Actor.Account(account.Identifier);
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var mailboxId = await FindMailboxIdAsync(connection, transaction, mailbox, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {mailbox} does not exist");
        var conditions = await EvaluateAsync(connection, transaction, account, mailbox, mailboxId, cancellationToken);
        if (unify && !conditions.AllHold)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new MailboxPasswordOutcome(MailboxPasswordResult.UnificationRefused, conditions);
        }
        if (!conditions.MayChangePassword)
        {
            throw new CredentialOperationException($"account {account.Identifier} has no permission to change the password of {mailbox}");
        }

        await SetMailboxHashAsync(connection, transaction, mailboxId, mailboxHash, cancellationToken);
        var alreadyUnified = (await UnifiedMailboxAsync(connection, transaction, account.Id, cancellationToken))?.Id == mailboxId;
        MailboxPasswordResult result;
        if (alreadyUnified || unify)
        {
            await SetAccountHashAsync(connection, transaction, account.Id, accountHash, cancellationToken);
            if (!alreadyUnified)
            {
                await using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO unifications (account_id, mailbox_id, created_at) VALUES ($account, $mailbox, $now)";
                insert.Parameters.AddWithValue("$account", account.Id);
                insert.Parameters.AddWithValue("$mailbox", mailboxId);
                insert.Parameters.AddWithValue("$now", Now());
                await insert.ExecuteNonQueryAsync(cancellationToken);
                await journal.AuditAsync(connection, transaction, actor, "unification.accepted", $"{account.Identifier} = {mailbox}",
                    "all three conditions hold and the holder accepted", cancellationToken);
            }
            result = alreadyUnified ? MailboxPasswordResult.BothChangedWhileUnified : MailboxPasswordResult.Unified;
        }
        else
        {
            // A change by any other account than the unified one dissolves that unification.
            await DissolveAsync(connection, transaction, "mailbox_id = $mailbox AND account_id <> $account", account.Id, mailboxId,
                actor, "the mailbox password was changed by another account", cancellationToken);
            if (conditions.AllHold)
            {
                await journal.AuditAsync(connection, transaction, actor, "unification.offered", $"{account.Identifier} = {mailbox}",
                    "all three conditions hold", cancellationToken);
            }
            result = conditions.AllHold ? MailboxPasswordResult.ChangedUnificationOffered : MailboxPasswordResult.Changed;
        }
        await journal.AuditAsync(connection, transaction, actor, "mailbox.password-changed", mailbox.ToString(),
            "changed by the account holder", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new MailboxPasswordOutcome(result, conditions);
    }

    public async Task SetTotpSecretAsync(AccountRecord account, byte[]? secret, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE accounts SET totp_secret = $secret, totp_last_step = NULL, totp_failures = 0, totp_locked_until = NULL,
                    credential_version = credential_version + 1, updated_at = $now WHERE id = $id
                """;
            command.Parameters.AddWithValue("$secret", secret is null ? DBNull.Value : database.Secrets.Seal(secret, TotpPurpose));
            command.Parameters.AddWithValue("$now", Now());
            command.Parameters.AddWithValue("$id", account.Id);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, actor, secret is null ? "account.2fa-disabled" : "account.2fa-enabled",
            account.Identifier, "admin request", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Records <paramref name="step"/> as used and forgets earlier wrong codes; false when it (or a
    /// later one) already was: a code never works twice.
    /// </summary>
    public async Task<bool> TryConsumeTotpStepAsync(AccountRecord account, long step, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE accounts SET totp_last_step = $step, totp_failures = 0
            WHERE id = $id AND (totp_last_step IS NULL OR totp_last_step < $step)
            """;
        command.Parameters.AddWithValue("$step", step);
        command.Parameters.AddWithValue("$id", account.Id);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Counts a wrong (or missing, or reused) 2FA code given with the right password, inside the
    /// caller's transaction. At <see cref="TotpFailuresBeforeLock"/> in a row, 2FA locks for
    /// <see cref="TotpLockTime"/> and the holder is told, since only someone who knows the password
    /// gets this far.
    /// </summary>
    internal async Task RecordWrongTotpAsync(
        SqliteConnection connection, SqliteTransaction transaction, AccountRecord account, CancellationToken cancellationToken)
    {
        long failures;
        await using (var count = connection.CreateCommand())
        {
            count.Transaction = transaction;
            count.CommandText = "UPDATE accounts SET totp_failures = totp_failures + 1 WHERE id = $id RETURNING totp_failures";
            count.Parameters.AddWithValue("$id", account.Id);
            failures = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }
        if (failures < TotpFailuresBeforeLock)
        {
            return;
        }
        var until = clock.GetUtcNow() + TotpLockTime;
        await using (var lockout = connection.CreateCommand())
        {
            lockout.Transaction = transaction;
            lockout.CommandText = "UPDATE accounts SET totp_failures = 0, totp_locked_until = $until WHERE id = $id";
            lockout.Parameters.AddWithValue("$until", until.ToString("O", CultureInfo.InvariantCulture));
            lockout.Parameters.AddWithValue("$id", account.Id);
            await lockout.ExecuteNonQueryAsync(cancellationToken);
        }
        var text = $"{TotpFailuresBeforeLock} wrong 2FA codes were entered for your manager account {account.Identifier} together with its correct password. " +
                   $"2FA logins are locked until {until:u}. If this was not you, change your password now: someone knows it.";
        await journal.QueueAsync(connection, transaction, new Notification(NotificationChannel.Email, account.SecondaryEmail, "2FA locked", text), cancellationToken);
        await journal.QueueAsync(connection, transaction, new Notification(NotificationChannel.Sms, account.Phone, "2FA locked", text), cancellationToken);
        await journal.AuditAsync(connection, transaction, Actor.System, "account.2fa-locked", account.Identifier,
            $"{TotpFailuresBeforeLock} wrong 2FA codes with the right password; locked for {TotpLockTime.TotalMinutes:0} minutes", cancellationToken);
    }

    /// <summary>The same, in a transaction of its own.</summary>
    public async Task RecordWrongTotpAsync(AccountRecord account, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await RecordWrongTotpAsync(connection, transaction, account, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> TryUpgradeHashAsync(AccountRecord account, string newHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE accounts SET password_hash = $new, updated_at = $now
            WHERE id = $id AND credential_version = $version AND password_hash = $old
            """;
        command.Parameters.AddWithValue("$new", newHash);
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$id", account.Id);
        command.Parameters.AddWithValue("$version", account.CredentialVersion);
        command.Parameters.AddWithValue("$old", account.PasswordHash);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Ends recovery: the account gets <paramref name="newLogin"/> and is back to normal.</summary>
    public async Task CompleteRecoveryAsync(AccountRecord account, EmailAddress newLogin, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE accounts SET login = $login, recovery_username = NULL, credential_version = credential_version + 1, updated_at = $now
                WHERE id = $id AND recovery_username IS NOT NULL
                """;
            command.Parameters.AddWithValue("$login", newLogin.ToString());
            command.Parameters.AddWithValue("$now", Now());
            command.Parameters.AddWithValue("$id", account.Id);
            try
            {
                if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    throw new CredentialOperationException("the account is not in recovery");
                }
            }
            catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintUnique)
            {
                throw new CredentialOperationException($"the login identifier {newLogin} is already used by another account");
            }
        }
        await journal.AuditAsync(connection, transaction, Actor.Account(account.Identifier), "account.recovery-completed",
            account.Identifier, $"new login identifier {newLogin}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// A password reset request, in one transaction whether or not the identifier has an account, so
    /// both cost the same: the rate limits per identifier and per requester are checked and charged
    /// (false, nothing else written, when one is reached); for an account, its older tokens die, the
    /// new token's hash is stored and the notifications queued.
    /// </summary>
    public async Task<bool> RequestResetAsync(
        string identifierKey, string requesterNetwork, AccountRecord? account, byte[] tokenHash, DateTimeOffset expiresAt,
        IReadOnlyList<Notification> notifications, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var limits = new (string Kind, string Key, int Limit)[]
        {
            ("identifier", identifierKey, ResetRequestsPerIdentifier),
            ("requester", requesterNetwork, ResetRequestsPerRequester),
        };
        foreach (var (kind, key, limit) in limits)
        {
            var score = await ThrottleScoreTable.ReadAsync(connection, transaction, ResetRealm, kind, key, now, ResetRequestHalfLife, cancellationToken);
            if (ThrottlePolicy.Reached(score, limit))
            {
                await transaction.RollbackAsync(cancellationToken);
                return false;
            }
        }
        foreach (var (kind, key, limit) in limits)
        {
            await ThrottleScoreTable.AddAsync(connection, transaction, ResetRealm, kind, key, 1, ThrottlePolicy.Cap(limit), now, ResetRequestHalfLife, cancellationToken);
        }
        if (account is null)
        {
            await journal.AuditAsync(connection, transaction, Actor.System, "account.reset-requested", identifierKey,
                "no account has this identifier; nothing sent", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        await InvalidateResetTokensAsync(connection, transaction, account.Id, cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO reset_tokens (token_hash, account_id, expires_at) VALUES ($hash, $account, $expires)";
            command.Parameters.AddWithValue("$hash", tokenHash);
            command.Parameters.AddWithValue("$account", account.Id);
            command.Parameters.AddWithValue("$expires", expiresAt.ToString("O", CultureInfo.InvariantCulture));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var notification in notifications)
        {
            await journal.QueueAsync(connection, transaction, notification, cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, Actor.Account(account.Identifier), "account.reset-requested", account.Identifier,
            "single-use reset token sent to the secondary email and phone", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Reset requests per identifier (known or not) before more are refused: a person asks once or twice.</summary>
    public const int ResetRequestsPerIdentifier = 3;

    /// <summary>Reset requests per requesting network: every one sends an email and an SMS somewhere.</summary>
    public const int ResetRequestsPerRequester = 10;

    /// <summary>Reset request counts halve every hour.</summary>
    public static readonly TimeSpan ResetRequestHalfLife = TimeSpan.FromHours(1);

    private const string ResetRealm = "reset-request";

    /// <summary>Every unused token of the account stops working (a newer request, a password change).</summary>
    private async Task InvalidateResetTokensAsync(
        SqliteConnection connection, SqliteTransaction transaction, long accountId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE reset_tokens SET used_at = $now WHERE account_id = $account AND used_at IS NULL";
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$account", accountId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The account a valid, unused, unexpired token belongs to, or null.</summary>
    public async Task<AccountRecord?> FindByResetTokenAsync(byte[] tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {AccountColumns} FROM accounts
            WHERE id = (SELECT account_id FROM reset_tokens WHERE token_hash = $hash AND used_at IS NULL AND expires_at > $now)
            """;
        command.Parameters.AddWithValue("$hash", tokenHash);
        command.Parameters.AddWithValue("$now", Now());
        return (await ReadAccountsAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Uses the token and sets the password in one transaction; false when the token was used or expired meanwhile.</summary>
    public async Task<EmailAddress?> CompleteResetAsync(
        byte[] tokenHash, AccountRecord account, string accountHash, string mailboxHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var use = connection.CreateCommand())
        {
            use.Transaction = transaction;
            use.CommandText = """
                UPDATE reset_tokens SET used_at = $now
                WHERE token_hash = $hash AND account_id = $account AND used_at IS NULL AND expires_at > $now
                """;
            use.Parameters.AddWithValue("$now", Now());
            use.Parameters.AddWithValue("$hash", tokenHash);
            use.Parameters.AddWithValue("$account", account.Id);
            if (await use.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new CredentialOperationException("the reset token is invalid, used or expired");
            }
        }
        await SetAccountHashAsync(connection, transaction, account.Id, accountHash, cancellationToken);
        var unified = await UnifiedMailboxAsync(connection, transaction, account.Id, cancellationToken);
        if (unified is { } mailbox)
        {
            await SetMailboxHashAsync(connection, transaction, mailbox.Id, mailboxHash, cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, Actor.Account(account.Identifier), "account.password-reset", account.Identifier,
            unified is null ? "reset with a single-use token" : $"reset with a single-use token; unified mailbox {unified.Value.Address} changed too",
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return unified?.Address;
    }

    public async Task QueueAsync(IReadOnlyList<Notification> notifications, Actor actor, string @event, string subject, string reason, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        foreach (var notification in notifications)
        {
            await journal.QueueAsync(connection, transaction, notification, cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, actor, @event, subject, reason, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    async Task IMailboxChangeHook.OnMailboxesRemovingAsync(
        SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<MailboxRow> mailboxes, string reason,
        CancellationToken cancellationToken)
    {
        foreach (var mailbox in mailboxes)
        {
            await DissolveAsync(connection, transaction, "mailbox_id = $mailbox", null, mailbox.Id, Actor.Admin, reason, cancellationToken);
            await using var select = connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = $"SELECT {AccountColumns} FROM accounts WHERE login = $login";
            select.Parameters.AddWithValue("$login", mailbox.Address.ToString());
            foreach (var account in await ReadAccountsAsync(select, cancellationToken))
            {
                await StartRecoveryAsync(connection, transaction, account, reason, cancellationToken);
            }
        }
    }

    async Task IMailboxChangeHook.OnDomainRemovingAsync(
        SqliteConnection connection, SqliteTransaction transaction, string domain, CancellationToken cancellationToken)
    {
        await using var select = connection.CreateCommand();
        select.Transaction = transaction;
        // Every login identifier of the domain, whether or not it had a mailbox here.
        select.CommandText = $"SELECT {AccountColumns} FROM accounts WHERE substr(login, -length($suffix)) = $suffix";
        select.Parameters.AddWithValue("$suffix", "@" + domain);
        foreach (var account in await ReadAccountsAsync(select, cancellationToken))
        {
            await StartRecoveryAsync(connection, transaction, account, $"mail service of {domain} cancelled", cancellationToken);
        }
    }

    Task IMailboxChangeHook.OnMailboxPasswordSetAsync(
        SqliteConnection connection, SqliteTransaction transaction, MailboxRow mailbox, string reason, CancellationToken cancellationToken) =>
        DissolveAsync(connection, transaction, "mailbox_id = $mailbox", null, mailbox.Id, Actor.Admin, reason, cancellationToken);

    /// <summary>
    /// The login identifier stops working; the holder gets a recovery username (initials and
    /// digits) by email to the secondary address and by SMS, and logs in with it and the unchanged password.
    /// </summary>
    private async Task StartRecoveryAsync(
        SqliteConnection connection, SqliteTransaction transaction, AccountRecord account, string reason, CancellationToken cancellationToken)
    {
        await DissolveAsync(connection, transaction, "account_id = $account", account.Id, null, Actor.System,
            "the account's login identifier stopped working", cancellationToken);
        var initials = ContactDetails.Initials(account.Name);
        string recoveryUsername;
        while (true)
        {
            recoveryUsername = initials + RandomNumberGenerator.GetInt32(100_000, 1_000_000).ToString(CultureInfo.InvariantCulture);
            await using var update = connection.CreateCommand();
            update.Transaction = transaction;
            update.CommandText = """
                UPDATE accounts SET former_login = login, login = NULL, recovery_username = $recovery,
                    credential_version = credential_version + 1, updated_at = $now
                WHERE id = $id
                """;
            update.Parameters.AddWithValue("$recovery", recoveryUsername);
            update.Parameters.AddWithValue("$now", Now());
            update.Parameters.AddWithValue("$id", account.Id);
            try
            {
                await update.ExecuteNonQueryAsync(cancellationToken);
                break;
            }
            catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintUnique)
            {
                // That recovery username is taken: draw other digits.
            }
        }

        var message = $"The login identifier {account.Login} of your manager account no longer works ({reason}). " +
                      $"Log in with the username {recoveryUsername} and your usual password, which has not changed, " +
                      "then choose a new login identifier.";
        await journal.QueueAsync(connection, transaction,
            new Notification(NotificationChannel.Email, account.SecondaryEmail, "Your login identifier is being changed", message), cancellationToken);
        await journal.QueueAsync(connection, transaction,
            new Notification(NotificationChannel.Sms, account.Phone, "Login identifier changed", message), cancellationToken);
        await journal.AuditAsync(connection, transaction, Actor.System, "account.recovery-started", account.Login!.ToString(),
            $"{reason}; recovery username issued", cancellationToken);
    }

    /// <summary>Deletes the unifications matching <paramref name="where"/> and audits each with its reason.</summary>
    private async Task DissolveAsync(
        SqliteConnection connection, SqliteTransaction transaction, string where, long? accountId, long? mailboxId, Actor actor, string reason,
        CancellationToken cancellationToken)
    {
        await using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = $"""
            DELETE FROM unifications WHERE {where}
            RETURNING (SELECT coalesce(login, former_login) FROM accounts WHERE id = account_id),
                      (SELECT address FROM mailboxes WHERE id = mailbox_id)
            """;
        delete.Parameters.AddWithValue("$account", (object?)accountId ?? DBNull.Value);
        delete.Parameters.AddWithValue("$mailbox", (object?)mailboxId ?? DBNull.Value);
        var dissolved = new List<string>();
        await using (var reader = await delete.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                dissolved.Add($"{reader.GetString(0)} = {reader.GetString(1)}");
            }
        }
        foreach (var pair in dissolved)
        {
            await journal.AuditAsync(connection, transaction, actor, "unification.dissolved", pair, reason, cancellationToken);
        }
    }

    private async Task<UnificationConditions> EvaluateAsync(
        SqliteConnection connection, SqliteTransaction? transaction, AccountRecord account, EmailAddress mailbox, long mailboxId,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT
                (SELECT COUNT(*) FROM account_grants WHERE mailbox_id = $mailbox),
                (SELECT can_change_password FROM account_grants WHERE mailbox_id = $mailbox AND account_id = $account)
            """;
        command.Parameters.AddWithValue("$mailbox", mailboxId);
        command.Parameters.AddWithValue("$account", account.Id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var grants = reader.GetInt64(0);
        var hasGrant = !await reader.IsDBNullAsync(1, cancellationToken);
        var mayChange = hasGrant && reader.GetBoolean(1);
        return new UnificationConditions(
            SameAddress: account.Login == mailbox,
            OnlyAccountWithAccess: hasGrant && grants == 1,
            MayChangePassword: mayChange);
    }

    private async Task<ManagerAccount> DescribeAsync(SqliteConnection connection, AccountRecord account, CancellationToken cancellationToken)
    {
        var grants = new List<AccountGrant>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT m.address, g.can_change_password FROM account_grants g JOIN mailboxes m ON m.id = g.mailbox_id
                WHERE g.account_id = $account ORDER BY m.address
                """;
            command.Parameters.AddWithValue("$account", account.Id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                grants.Add(new AccountGrant(EmailAddress.Parse(reader.GetString(0)), reader.GetBoolean(1)));
            }
        }
        string? formerLogin;
        await using (var former = connection.CreateCommand())
        {
            former.CommandText = "SELECT former_login FROM accounts WHERE id = $id";
            former.Parameters.AddWithValue("$id", account.Id);
            formerLogin = await former.ExecuteScalarAsync(cancellationToken) as string;
        }
        var unified = await UnifiedMailboxAsync(connection, null, account.Id, cancellationToken);
        return new ManagerAccount(
            account.Login, account.RecoveryUsername, formerLogin is null ? null : EmailAddress.Parse(formerLogin),
            account.Name, account.Phone, account.SecondaryEmail, account.TotpSecret is not null, grants, unified?.Address);
    }

    private async Task<AccountRecord?> FindAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string identifier, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {AccountColumns} FROM accounts WHERE login = $identifier OR recovery_username = $identifier";
        command.Parameters.AddWithValue("$identifier", identifier);
        return (await ReadAccountsAsync(command, cancellationToken)).SingleOrDefault();
    }

    private static async Task<(long Id, EmailAddress Address)?> UnifiedMailboxAsync(
        SqliteConnection connection, SqliteTransaction? transaction, long accountId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT m.id, m.address FROM unifications u JOIN mailboxes m ON m.id = u.mailbox_id WHERE u.account_id = $account";
        command.Parameters.AddWithValue("$account", accountId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), EmailAddress.Parse(reader.GetString(1))) : null;
    }

    private static async Task<long?> FindMailboxIdAsync(
        SqliteConnection connection, SqliteTransaction? transaction, EmailAddress mailbox, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id FROM mailboxes WHERE address = $address";
        command.Parameters.AddWithValue("$address", mailbox.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    private async Task SetAccountHashAsync(
        SqliteConnection connection, SqliteTransaction transaction, long accountId, string hash, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE accounts SET password_hash = $hash, credential_version = credential_version + 1, updated_at = $now WHERE id = $id";
        command.Parameters.AddWithValue("$hash", hash);
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$id", accountId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        // A new password, whatever set it, ends every reset token still outstanding.
        await InvalidateResetTokensAsync(connection, transaction, accountId, cancellationToken);
    }

    private async Task SetMailboxHashAsync(
        SqliteConnection connection, SqliteTransaction transaction, long mailboxId, string hash, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE mailboxes SET password_hash = $hash, credential_version = credential_version + 1, updated_at = $now WHERE id = $id";
        command.Parameters.AddWithValue("$hash", hash);
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$id", mailboxId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await MailboxChangeLog.RecordAsync(connection, transaction, mailboxId, MailboxChangeKind.PasswordChanged, endsSessions: true, clock.GetUtcNow(), cancellationToken);
    }

    private async Task<IReadOnlyList<AccountRecord>> ReadAccountsAsync(SqliteCommand command, CancellationToken cancellationToken)
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

    /// <summary>A stored 2FA secret: sealed, or raw from before secrets were sealed (sealed at the next start).</summary>
    private byte[] OpenTotpSecret(byte[] stored) =>
        SecretBox.IsSealed(stored) ? database.Secrets.Open(stored, TotpPurpose) : stored;

    /// <summary>
    /// Seals the 2FA secrets stored raw by versions before secrets were sealed; run at start. Returns
    /// how many were sealed.
    /// </summary>
    public int SealLegacySecrets()
    {
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        var raw = new List<(long Id, byte[] Secret)>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id, totp_secret FROM accounts WHERE totp_secret IS NOT NULL";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var secret = (byte[])reader.GetValue(1);
                if (!SecretBox.IsSealed(secret))
                {
                    raw.Add((reader.GetInt64(0), secret));
                }
            }
        }
        using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = "UPDATE accounts SET totp_secret = $secret WHERE id = $id";
            var secretParameter = update.Parameters.Add("$secret", SqliteType.Blob);
            var idParameter = update.Parameters.Add("$id", SqliteType.Integer);
            foreach (var (id, secret) in raw)
            {
                secretParameter.Value = database.Secrets.Seal(secret, TotpPurpose);
                idParameter.Value = id;
                update.ExecuteNonQuery();
            }
        }
        transaction.Commit();
        return raw.Count;
    }

    private string Now() => clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
