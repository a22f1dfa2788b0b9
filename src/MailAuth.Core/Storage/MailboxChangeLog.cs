using System.Data.Common;
using System.Globalization;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>
/// The <c>mailbox_changes</c> table: written inside the transaction of each credential change
/// (so a change is logged if and only if it happened), read by servers to end stale sessions.
/// </summary>
internal sealed class MailboxChangeLog(StoreDatabase database, TimeProvider clock) : IMailboxChangeFeed
{
    internal static async Task RecordAsync(
        DbConnection connection, DbTransaction transaction, EmailAddress address, MailboxChangeKind kind, bool endsSessions,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO mailbox_changes (address, kind, ends_sessions, at) VALUES (@address, @kind, @ends, @at)" + NotifySql(connection);
        command.AddParameter("@address", address.ToString());
        command.AddParameter("@kind", KindText(kind));
        command.AddParameter("@ends", endsSessions);
        command.AddParameter("@at", now.ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The same, for a mailbox known by its row id (the manager-account side).</summary>
    internal static async Task RecordAsync(
        DbConnection connection, DbTransaction transaction, long mailboxId, MailboxChangeKind kind, bool endsSessions,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO mailbox_changes (address, kind, ends_sessions, at)
            SELECT address, @kind, @ends, @at FROM mailboxes WHERE id = @id
            """ + NotifySql(connection);
        command.AddParameter("@id", mailboxId);
        command.AddParameter("@kind", KindText(kind));
        command.AddParameter("@ends", endsSessions);
        command.AddParameter("@at", now.ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// PostgreSQL: wakes every node's <see cref="PostgresMailboxChangeListener"/>. Inside the change's
    /// transaction, so it is delivered on commit and never for a change rolled back.
    /// </summary>
    private static string NotifySql(DbConnection connection) =>
        connection is Npgsql.NpgsqlConnection ? "; NOTIFY " + PostgresMailboxChangeListener.Channel : "";

    public async Task<long> LatestPositionAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT " + database.LatestChangePositionSql;
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IReadOnlyList<MailboxChange>> ReadAfterAsync(long position, int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, address, kind, ends_sessions FROM mailbox_changes WHERE id > @position ORDER BY id LIMIT @limit";
        command.AddParameter("@position", position);
        command.AddParameter("@limit", limit);
        var changes = new List<MailboxChange>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            changes.Add(new MailboxChange(reader.GetInt64(0), EmailAddress.Parse(reader.GetString(1)), ParseKind(reader.GetString(2)), reader.GetBoolean(3)));
        }
        return changes;
    }

    public async Task<bool> EndsSessionsAfterAsync(EmailAddress address, long position, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM mailbox_changes WHERE address = @address AND id > @position AND ends_sessions)";
        command.AddParameter("@address", address.ToString());
        command.AddParameter("@position", position);
        return Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<int> PruneAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = database.PruneChangesSql;
        command.AddParameter("@cutoff", (clock.GetUtcNow() - age).ToString("O", CultureInfo.InvariantCulture));
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private static string KindText(MailboxChangeKind kind) => kind switch
    {
        MailboxChangeKind.PasswordChanged => "password",
        MailboxChangeKind.Disabled => "disabled",
        MailboxChangeKind.Enabled => "enabled",
        MailboxChangeKind.Moved => "moved",
        _ => "removed",
    };

    private static MailboxChangeKind ParseKind(string text) => text switch
    {
        "password" => MailboxChangeKind.PasswordChanged,
        "disabled" => MailboxChangeKind.Disabled,
        "enabled" => MailboxChangeKind.Enabled,
        "moved" => MailboxChangeKind.Moved,
        _ => MailboxChangeKind.Removed,
    };
}
