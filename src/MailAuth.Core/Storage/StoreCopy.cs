using System.Data.Common;
using MailAuth.Core.Addresses;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace MailAuth.Core.Storage;

/// <summary>One table copied: its rows in the source and, read back, in the target.</summary>
public sealed record CopiedTable(string Name, long SourceRows, long TargetRows);

/// <summary>What <see cref="StoreCopy.ToPostgresAsync"/> did and checked.</summary>
/// <param name="CredentialsCompared">Mailboxes whose credential the login path reads identically from both stores.</param>
public sealed record StoreCopyReport(IReadOnlyList<CopiedTable> Tables, int CredentialsCompared);

/// <summary>The copy was refused or did not verify; nothing was committed unless the message says so.</summary>
public sealed class StoreCopyException(string message) : Exception(message);

/// <summary>
/// Moves a one-machine install to PostgreSQL: every table of the SQLite store copied into a
/// PostgreSQL store at the same schema version, in one transaction under the writers' lock (a
/// failed copy leaves the target as it was, so it can simply run again). The target must be empty
/// unless <c>replace</c> is given, which empties it first: running again gives the same result.
/// The tables come from the target's own schema, in foreign-key order, so a table added by a
/// later migration is copied without being named here.
/// </summary>
public static class StoreCopy
{
    /// <summary>Bookkeeping of each store itself, not data: the schema version and the pruned change position (carried over apart).</summary>
    private static readonly string[] NotCopied = ["mailauth_schema", "mailbox_changes_pruned"];

    public static async Task<StoreCopyReport> ToPostgresAsync(
        SqliteDatabase source, PostgresDatabase target, bool replace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        await using var from = (SqliteConnection)source.Open();
        await using (var to = (NpgsqlConnection)target.Open())
        await using (var transaction = (NpgsqlTransaction)await target.BeginWriteAsync(to, cancellationToken))
        {
            var tables = await TablesInCopyOrderAsync(to, transaction, cancellationToken);
            var sourceTables = await SqliteTablesAsync(from, cancellationToken);
            if (sourceTables.Except(tables.Select(t => t.Name)).FirstOrDefault() is { } unknown)
            {
                throw new StoreCopyException($"the SQLite store has a table {unknown} that the PostgreSQL schema lacks: upgrade the nodes' MailAuth first");
            }
            var occupied = new List<string>();
            foreach (var table in tables)
            {
                if (await CountAsync(to, transaction, table.Name, cancellationToken) is var rows and > 0)
                {
                    occupied.Add($"{rows} in {table.Name}");
                }
            }
            if (occupied.Count > 0)
            {
                if (!replace)
                {
                    throw new StoreCopyException($"the PostgreSQL store is not empty (rows: {string.Join(", ", occupied)}); give --force to replace them");
                }
                await ExecuteAsync(to, transaction, $"TRUNCATE {string.Join(", ", tables.Select(t => t.Name))} RESTART IDENTITY CASCADE", cancellationToken);
            }

            var copied = new List<CopiedTable>();
            foreach (var table in tables)
            {
                var sourceRows = await CopyTableAsync(from, to, table, cancellationToken);
                await RestartIdentityAsync(to, transaction, table, cancellationToken);
                copied.Add(new CopiedTable(table.Name, sourceRows, await CountAsync(to, transaction, table.Name, cancellationToken)));
            }
            // Change log positions never go back: the target continues where the source's numbering was.
            await ExecuteAsync(to, transaction,
                $"UPDATE mailbox_changes_pruned SET position = {await LastChangePositionAsync(from, cancellationToken)}", cancellationToken);
            if (copied.FirstOrDefault(t => t.SourceRows != t.TargetRows) is { } mismatch)
            {
                throw new StoreCopyException($"{mismatch.Name}: {mismatch.SourceRows} rows in SQLite but {mismatch.TargetRows} in PostgreSQL; nothing was committed");
            }
            await transaction.CommitAsync(cancellationToken);
            return new StoreCopyReport(copied, await CompareCredentialsAsync(source, target, from, cancellationToken));
        }
    }

    /// <summary>The login path's own read, on both stores, for every mailbox: the same hash, state, version and change position.</summary>
    private static async Task<int> CompareCredentialsAsync(
        SqliteDatabase source, PostgresDatabase target, SqliteConnection from, CancellationToken cancellationToken)
    {
        var sourceLogins = new MailboxCredentialStore(source, TimeProvider.System);
        var targetLogins = new MailboxCredentialStore(target, TimeProvider.System);
        var compared = 0;
        await using var command = from.CreateCommand();
        command.CommandText = "SELECT address FROM mailboxes ORDER BY address";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var address = EmailAddress.Parse(reader.GetString(0));
            var expected = await sourceLogins.FindAsync(address, cancellationToken);
            var found = await targetLogins.FindAsync(address, cancellationToken);
            if (found != expected)
            {
                throw new StoreCopyException($"copied, but a login of {address} reads a different credential from PostgreSQL than from SQLite");
            }
            compared++;
        }
        return compared;
    }

    private sealed record Table(string Name, IReadOnlyList<Column> Columns);

    private sealed record Column(string Name, string Type, bool IsIdentity);

    /// <summary>The target's tables, each after the tables its foreign keys reference.</summary>
    private static async Task<IReadOnlyList<Table>> TablesInCopyOrderAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var columns = new Dictionary<string, List<Column>>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
            """
            SELECT c.table_name, c.column_name, c.data_type, c.is_identity = 'YES'
            FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name, c.ordinal_position
            """, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (!NotCopied.Contains(reader.GetString(0)))
                {
                    columns.TryAdd(reader.GetString(0), []);
                    columns[reader.GetString(0)].Add(new Column(reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)));
                }
            }
        }
        var references = columns.Keys.ToDictionary(name => name, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
            """
            SELECT con.conrelid::regclass::text, con.confrelid::regclass::text FROM pg_constraint con
            WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace
            """, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (references.TryGetValue(reader.GetString(0), out var referenced) && reader.GetString(0) != reader.GetString(1))
                {
                    referenced.Add(reader.GetString(1));
                }
            }
        }
        var ordered = new List<Table>();
        while (references.Count > 0)
        {
            var ready = references.Where(r => !r.Value.Overlaps(references.Keys)).Select(r => r.Key).Order(StringComparer.Ordinal).ToList();
            if (ready.Count == 0)
            {
                throw new StoreCopyException($"the tables {string.Join(", ", references.Keys)} reference each other in a circle: they cannot be copied in order");
            }
            foreach (var name in ready)
            {
                ordered.Add(new Table(name, columns[name]));
                references.Remove(name);
            }
        }
        return ordered;
    }

    private static async Task<IReadOnlyList<string>> SqliteTablesAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var tables = new List<string>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!NotCopied.Contains(reader.GetString(0)))
            {
                tables.Add(reader.GetString(0));
            }
        }
        return tables;
    }

    /// <summary>Streams one table with COPY (binary), each value in the target column's type; returns the rows read.</summary>
    private static async Task<long> CopyTableAsync(SqliteConnection from, NpgsqlConnection to, Table table, CancellationToken cancellationToken)
    {
        var names = string.Join(", ", table.Columns.Select(c => c.Name));
        await using var read = from.CreateCommand();
        read.CommandText = $"SELECT {names} FROM {table.Name}";
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        await using var writer = await to.BeginBinaryImportAsync($"COPY {table.Name} ({names}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        long rows = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            await writer.StartRowAsync(cancellationToken);
            for (var i = 0; i < table.Columns.Count; i++)
            {
                await WriteAsync(writer, reader, i, table.Columns[i], table.Name, cancellationToken);
            }
            rows++;
        }
        await writer.CompleteAsync(cancellationToken);
        return rows;
    }

    private static async Task WriteAsync(
        NpgsqlBinaryImporter writer, SqliteDataReader reader, int ordinal, Column column, string table, CancellationToken cancellationToken)
    {
        if (await reader.IsDBNullAsync(ordinal, cancellationToken))
        {
            await writer.WriteNullAsync(cancellationToken);
            return;
        }
        switch (column.Type)
        {
            case "bigint":
                await writer.WriteAsync(reader.GetInt64(ordinal), NpgsqlDbType.Bigint, cancellationToken);
                break;
            case "integer":
                await writer.WriteAsync(reader.GetInt32(ordinal), NpgsqlDbType.Integer, cancellationToken);
                break;
            case "boolean":
                await writer.WriteAsync(reader.GetInt64(ordinal) != 0, NpgsqlDbType.Boolean, cancellationToken);
                break;
            case "double precision":
                await writer.WriteAsync(reader.GetDouble(ordinal), NpgsqlDbType.Double, cancellationToken);
                break;
            case "bytea":
                await writer.WriteAsync((byte[])reader.GetValue(ordinal), NpgsqlDbType.Bytea, cancellationToken);
                break;
            case "text":
                await writer.WriteAsync(reader.GetString(ordinal), NpgsqlDbType.Text, cancellationToken);
                break;
            default:
                throw new StoreCopyException($"{table}.{column.Name} has the type {column.Type}, which store copy does not know");
        }
    }

    /// <summary>An identity continues after the highest copied value, so the next row added on PostgreSQL gets a new one.</summary>
    private static async Task RestartIdentityAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Table table, CancellationToken cancellationToken)
    {
        foreach (var column in table.Columns.Where(c => c.IsIdentity))
        {
            await ExecuteAsync(connection, transaction,
                $"SELECT setval(pg_get_serial_sequence('{table.Name}', '{column.Name}'), coalesce(max({column.Name}), 0) + 1, false) FROM {table.Name}",
                cancellationToken);
        }
    }

    /// <summary>The highest change position SQLite ever handed out (AUTOINCREMENT remembers it after the rows are pruned).</summary>
    private static async Task<long> LastChangePositionAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'mailbox_changes'), 0)";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection, transaction);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
