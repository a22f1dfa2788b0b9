using System.Data.Common;
using System.Security.Cryptography;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>Grants of mailboxes to accounts, and the unification of an account's password with its mailbox's (docs/ARCHITECTURE.md, "The rules").</summary>
internal sealed partial class ManagerAccountStore
{
    public async Task<UnificationConditions> EvaluateAsync(AccountRecord account, EmailAddress mailbox, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        var mailboxId = await FindMailboxIdAsync(connection, null, mailbox, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {mailbox} does not exist", CredentialRefusal.NotFound);
        return await EvaluateAsync(connection, null, account, mailbox, mailboxId, cancellationToken);
    }

    public async Task GrantAsync(AccountRecord account, EmailAddress mailbox, bool canChangePassword, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        var mailboxId = await FindMailboxIdAsync(connection, transaction, mailbox, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {mailbox} does not exist", CredentialRefusal.NotFound);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO account_grants (account_id, mailbox_id, can_change_password) VALUES (@account, @mailbox, @can)
                ON CONFLICT (account_id, mailbox_id) DO UPDATE SET can_change_password = excluded.can_change_password
                """;
            command.AddParameter("@account", account.Id);
            command.AddParameter("@mailbox", mailboxId);
            command.AddParameter("@can", canChangePassword);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, actor, "account.granted", $"{account.Identifier} -> {mailbox}",
            canChangePassword ? "webmail access and permission to change the password" : "webmail access only", cancellationToken);

        // DESIGN.md §1: a second account with access, or a revoked permission, ends a unification.
        await DissolveAsync(connection, transaction, "mailbox_id = @mailbox AND account_id <> @account", account.Id, mailboxId,
            actor, "a second manager account was granted access to the mailbox", cancellationToken);
        if (!canChangePassword)
        {
            await DissolveAsync(connection, transaction, "mailbox_id = @mailbox AND account_id = @account", account.Id, mailboxId,
                actor, "the permission to change the mailbox password was revoked", cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task RevokeAsync(AccountRecord account, EmailAddress mailbox, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        var mailboxId = await FindMailboxIdAsync(connection, transaction, mailbox, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {mailbox} does not exist", CredentialRefusal.NotFound);
        await DissolveAsync(connection, transaction, "mailbox_id = @mailbox AND account_id = @account", account.Id, mailboxId,
            actor, "the account's access to the mailbox was revoked", cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM account_grants WHERE account_id = @account AND mailbox_id = @mailbox";
            command.AddParameter("@account", account.Id);
            command.AddParameter("@mailbox", mailboxId);
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new CredentialOperationException($"account {account.Identifier} has no access to {mailbox}", CredentialRefusal.NotAllowed);
            }
        }
        await journal.AuditAsync(connection, transaction, actor, "account.revoked", $"{account.Identifier} -> {mailbox}", "access removed", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The account holder sets a mailbox password. Returns what happened to the pair; nothing is
    /// written when the holder lacks the permission or asks to unify where a condition fails.
    /// </summary>
    public async Task<MailboxPasswordOutcome> SetMailboxPasswordAsync(
        AccountRecord account, EmailAddress mailbox, string mailboxHash, string accountHash, bool unify, CancellationToken cancellationToken,
        string from = "")
    {
        var actor = Actor.Account(account.Identifier);
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        var mailboxId = await FindMailboxIdAsync(connection, transaction, mailbox, cancellationToken)
            ?? throw new CredentialOperationException($"mailbox {mailbox} does not exist", CredentialRefusal.NotFound);
        var conditions = await EvaluateAsync(connection, transaction, account, mailbox, mailboxId, cancellationToken);
        if (unify && !conditions.AllHold)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new MailboxPasswordOutcome(MailboxPasswordResult.UnificationRefused, conditions);
        }
        if (!conditions.MayChangePassword)
        {
            throw new CredentialOperationException($"account {account.Identifier} has no permission to change the password of {mailbox}", CredentialRefusal.NotAllowed);
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
                insert.CommandText = "INSERT INTO unifications (account_id, mailbox_id, created_at) VALUES (@account, @mailbox, @now)";
                insert.AddParameter("@account", account.Id);
                insert.AddParameter("@mailbox", mailboxId);
                insert.AddParameter("@now", Now());
                await insert.ExecuteNonQueryAsync(cancellationToken);
                await journal.AuditAsync(connection, transaction, actor, "unification.accepted", $"{account.Identifier} = {mailbox}",
                    "all three conditions hold and the holder accepted" + from, cancellationToken);
            }
            result = alreadyUnified ? MailboxPasswordResult.BothChangedWhileUnified : MailboxPasswordResult.Unified;
        }
        else
        {
            // A change by any other account than the unified one dissolves that unification.
            await DissolveAsync(connection, transaction, "mailbox_id = @mailbox AND account_id <> @account", account.Id, mailboxId,
                actor, "the mailbox password was changed by another account", cancellationToken);
            if (conditions.AllHold)
            {
                await journal.AuditAsync(connection, transaction, actor, "unification.offered", $"{account.Identifier} = {mailbox}",
                    "all three conditions hold", cancellationToken);
            }
            result = conditions.AllHold ? MailboxPasswordResult.ChangedUnificationOffered : MailboxPasswordResult.Changed;
        }
        await journal.AuditAsync(connection, transaction, actor, "mailbox.password-changed", mailbox.ToString(),
            "changed by the account holder" + from, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new MailboxPasswordOutcome(result, conditions);
    }

    /// <summary>Deletes the unifications matching <paramref name="where"/> and audits each with its reason.</summary>
    private async Task DissolveAsync(
        DbConnection connection, DbTransaction transaction, string where, long? accountId, long? mailboxId, Actor actor, string reason,
        CancellationToken cancellationToken)
    {
        await using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = $"""
            DELETE FROM unifications WHERE {where}
            RETURNING (SELECT coalesce(login, former_login) FROM accounts WHERE id = account_id),
                      (SELECT address FROM mailboxes WHERE id = mailbox_id)
            """;
        delete.AddParameter("@account", (object?)accountId ?? DBNull.Value);
        delete.AddParameter("@mailbox", (object?)mailboxId ?? DBNull.Value);
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
        DbConnection connection, DbTransaction? transaction, AccountRecord account, EmailAddress mailbox, long mailboxId,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT
                (SELECT COUNT(*) FROM account_grants WHERE mailbox_id = @mailbox),
                (SELECT can_change_password FROM account_grants WHERE mailbox_id = @mailbox AND account_id = @account)
            """;
        command.AddParameter("@mailbox", mailboxId);
        command.AddParameter("@account", account.Id);
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

    private static async Task<(long Id, EmailAddress Address)?> UnifiedMailboxAsync(
        DbConnection connection, DbTransaction? transaction, long accountId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT m.id, m.address FROM unifications u JOIN mailboxes m ON m.id = u.mailbox_id WHERE u.account_id = @account";
        command.AddParameter("@account", accountId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), EmailAddress.Parse(reader.GetString(1))) : null;
    }

    private static async Task<long?> FindMailboxIdAsync(
        DbConnection connection, DbTransaction? transaction, EmailAddress mailbox, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id FROM mailboxes WHERE address = @address";
        command.AddParameter("@address", mailbox.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    private async Task SetMailboxHashAsync(
        DbConnection connection, DbTransaction transaction, long mailboxId, string hash, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE mailboxes SET password_hash = @hash, credential_version = credential_version + 1, updated_at = @now WHERE id = @id";
        command.AddParameter("@hash", hash);
        command.AddParameter("@now", Now());
        command.AddParameter("@id", mailboxId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await MailboxChangeLog.RecordAsync(connection, transaction, mailboxId, MailboxChangeKind.PasswordChanged, endsSessions: true, clock.GetUtcNow(), cancellationToken);
    }
}
