using System.Globalization;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>
/// The login path's view of the database: one read per login and the rehash write. It knows
/// nothing of manager accounts (a test walks the login path's object graph to prove it).
/// </summary>
internal sealed class MailboxCredentialStore(StoreDatabase database, TimeProvider clock) : IMailboxCredentialStore
{
    public async Task<MailboxCredential?> FindAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        // One statement, one snapshot: the change log position is the one this credential belongs to.
        command.CommandText =
            $"SELECT password_hash, disabled_reason IS NOT NULL, credential_version, {database.LatestChangePositionSql} FROM mailboxes WHERE address = @address";
        command.AddParameter("@address", address.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new MailboxCredential(address, reader.GetString(0), reader.GetBoolean(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    public async Task<bool> TryUpgradeHashAsync(MailboxCredential verified, string newHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        // The hash of a unified pair is upgraded on the mailbox side only: each side has its own hash.
        command.CommandText = """
            UPDATE mailboxes SET password_hash = @new, updated_at = @now
            WHERE address = @address AND credential_version = @version AND password_hash = @old
            """;
        command.AddParameter("@new", newHash);
        command.AddParameter("@now", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        command.AddParameter("@address", verified.Address.ToString());
        command.AddParameter("@version", verified.CredentialVersion);
        command.AddParameter("@old", verified.PasswordHash);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
