using System.Globalization;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using Microsoft.Data.Sqlite;

namespace MailAuth.Core.Storage;

/// <summary>
/// The <c>mailbox_changes</c> table: written inside the transaction of each credential change
/// (so a change is logged if and only if it happened), read by servers to end stale sessions.
/// </summary>
internal sealed class MailboxChangeLog(SqliteDatabase database, TimeProvider clock) : IMailboxChangeFeed
{
    /// <summary>The position of the newest change, as an expression usable inside another SELECT (one snapshot).</summary>
    internal const string LatestPositionSql = "(SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'mailbox_changes'), 0))";

    internal static async Task RecordAsync(
        SqliteConnection connection, SqliteTransaction transaction, EmailAddress address, MailboxChangeKind kind, bool endsSessions,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO mailbox_changes (address, kind, ends_sessions, at) VALUES ($address, $kind, $ends, $at)";
        command.Parameters.AddWithValue("$address", address.ToString());
        command.Parameters.AddWithValue("$kind", KindText(kind));
        command.Parameters.AddWithValue("$ends", endsSessions);
        command.Parameters.AddWithValue("$at", now.ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The same, for a mailbox known by its row id (the manager-account side).</summary>
    internal static async Task RecordAsync(
        SqliteConnection connection, SqliteTransaction transaction, long mailboxId, MailboxChangeKind kind, bool endsSessions,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO mailbox_changes (address, kind, ends_sessions, at)
            SELECT address, $kind, $ends, $at FROM mailboxes WHERE id = $id
            """;
        command.Parameters.AddWithValue("$id", mailboxId);
        command.Parameters.AddWithValue("$kind", KindText(kind));
        command.Parameters.AddWithValue("$ends", endsSessions);
        command.Parameters.AddWithValue("$at", now.ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<long> LatestPositionAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT " + LatestPositionSql;
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IReadOnlyList<MailboxChange>> ReadAfterAsync(long position, int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, address, kind, ends_sessions FROM mailbox_changes WHERE id > $position ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$position", position);
        command.Parameters.AddWithValue("$limit", limit);
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
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM mailbox_changes WHERE address = $address AND id > $position AND ends_sessions)";
        command.Parameters.AddWithValue("$address", address.ToString());
        command.Parameters.AddWithValue("$position", position);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    public async Task<int> PruneAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM mailbox_changes WHERE at < $cutoff";
        command.Parameters.AddWithValue("$cutoff", (clock.GetUtcNow() - age).ToString("O", CultureInfo.InvariantCulture));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string KindText(MailboxChangeKind kind) => kind switch
    {
        MailboxChangeKind.PasswordChanged => "password",
        MailboxChangeKind.Disabled => "disabled",
        MailboxChangeKind.Enabled => "enabled",
        _ => "removed",
    };

    private static MailboxChangeKind ParseKind(string text) => text switch
    {
        "password" => MailboxChangeKind.PasswordChanged,
        "disabled" => MailboxChangeKind.Disabled,
        "enabled" => MailboxChangeKind.Enabled,
        _ => MailboxChangeKind.Removed,
    };
}
