using System.Data.Common;
using System.Globalization;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>
/// The login path's view of the database: one read per login (sent with the shared throttle's
/// read when there is one) and the rehash write. It knows
/// nothing of manager accounts (a test walks the login path's object graph to prove it).
/// </summary>
internal sealed class MailboxCredentialStore(StoreDatabase database, TimeProvider clock) : IMailboxCredentialStore
{
    public async Task<MailboxCredential?> FindAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        var read = ReadOf(address);
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = read.Sql;
        read.AddParameters(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await read.ReadAsync(reader, cancellationToken);
        return read.Credential;
    }

    /// <summary>The read <see cref="FindAsync"/> makes, to send along with another statement (the shared throttle's).</summary>
    internal CredentialRead ReadOf(EmailAddress address) => new(address, database.LatestChangePositionSql);

    internal sealed class CredentialRead(EmailAddress address, string latestChangePositionSql) : StoreRead
    {
        public MailboxCredential? Credential { get; private set; }

        // One statement, one snapshot: the change log position is the one this credential belongs to.
        public override string Sql =>
            $"SELECT password_hash, disabled_reason IS NOT NULL, credential_version, {latestChangePositionSql} FROM mailboxes WHERE address = @address";

        public override void AddParameters(DbCommand command) => command.AddParameter("@address", address.ToString());

        public override async Task ReadAsync(DbDataReader reader, CancellationToken cancellationToken) =>
            Credential = await reader.ReadAsync(cancellationToken)
                ? new MailboxCredential(address, reader.GetString(0), reader.GetBoolean(1), reader.GetInt64(2), reader.GetInt64(3))
                : null;
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
