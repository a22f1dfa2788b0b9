using System.Data;
using System.Data.Common;
using System.Globalization;
using MailAuth.Core.Accounts;
using MailAuth.Core.Audit;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Notifications;

namespace MailAuth.Core.Storage;

/// <summary>2FA: the sealed TOTP secrets, the one use of each code, and the lock after wrong codes.</summary>
internal sealed partial class ManagerAccountStore
{
    public async Task SetTotpSecretAsync(AccountRecord account, byte[]? secret, Actor actor, CancellationToken cancellationToken, string detail = "admin request")
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE accounts SET totp_secret = @secret, totp_last_step = NULL, totp_failures = 0, totp_locked_until = NULL,
                    credential_version = credential_version + 1, updated_at = @now WHERE id = @id
                """;
            command.AddParameter("@secret", secret is null ? DBNull.Value : database.Secrets.Seal(secret, TotpPurpose));
            command.AddParameter("@now", Now());
            command.AddParameter("@id", account.Id);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, actor, secret is null ? "account.2fa-disabled" : "account.2fa-enabled",
            account.Identifier, detail, cancellationToken);
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
            UPDATE accounts SET totp_last_step = @step, totp_failures = 0
            WHERE id = @id AND (totp_last_step IS NULL OR totp_last_step < @step)
            """;
        command.AddParameter("@step", step);
        command.AddParameter("@id", account.Id);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Counts a wrong (or missing, or reused) 2FA code given with the right password, inside the
    /// caller's transaction. At <see cref="TotpFailuresBeforeLock"/> in a row, 2FA locks for
    /// <see cref="TotpLockTime"/> and the holder is told, since only someone who knows the password
    /// gets this far.
    /// </summary>
    internal async Task RecordWrongTotpAsync(
        DbConnection connection, DbTransaction transaction, AccountRecord account, CancellationToken cancellationToken)
    {
        long failures;
        await using (var count = connection.CreateCommand())
        {
            count.Transaction = transaction;
            count.CommandText = "UPDATE accounts SET totp_failures = totp_failures + 1 WHERE id = @id RETURNING totp_failures";
            count.AddParameter("@id", account.Id);
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
            lockout.CommandText = "UPDATE accounts SET totp_failures = 0, totp_locked_until = @until WHERE id = @id";
            lockout.AddParameter("@until", until.ToString("O", CultureInfo.InvariantCulture));
            lockout.AddParameter("@id", account.Id);
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
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await RecordWrongTotpAsync(connection, transaction, account, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
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
        using var transaction = database.BeginWrite(connection);
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
            update.CommandText = "UPDATE accounts SET totp_secret = @secret WHERE id = @id";
            var secretParameter = update.AddParameter("@secret", DbType.Binary);
            var idParameter = update.AddParameter("@id", DbType.Int64);
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
}
