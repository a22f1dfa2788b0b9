using System.Data.Common;
using Npgsql;

namespace MailAuth.Core.Storage;

/// <summary>
/// A PostgreSQL database shared by every node and CLI run. Npgsql pools the connections. Write
/// transactions take one transaction-scoped advisory lock, so writers take turns as they do on
/// SQLite: a check made inside a write transaction still holds when it commits, and the change
/// log's positions become visible in order (a reader never sees change n+1 without change n).
/// </summary>
public sealed class PostgresDatabase : StoreDatabase, IDisposable
{
    /// <summary>The advisory lock key of writers and migrations: "MailAuth" in ASCII.</summary>
    internal const long WriteLockKey = 0x4D61696C41757468;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _connectionString;

    private PostgresDatabase(string connectionString, string dataDirectory)
        : base(dataDirectory)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Description = $"postgresql://{builder.Host}:{builder.Port}/{builder.Database}";
        _dataSource = NpgsqlDataSource.Create(builder);
        _connectionString = builder.ConnectionString;
    }

    public override string Description { get; }

    /// <summary>
    /// The highest visible row, not the identity's sequence: a sequence value is handed out before
    /// its transaction commits, and a login that read it would miss that change. Pruned positions
    /// are kept in <c>mailbox_changes_pruned</c>, so the position never goes back.
    /// </summary>
    internal override string LatestChangePositionSql =>
        "(SELECT greatest(coalesce(max(id), 0), (SELECT position FROM mailbox_changes_pruned)) FROM mailbox_changes)";

    internal override string PruneChangesSql => """
        WITH gone AS (DELETE FROM mailbox_changes WHERE at < @cutoff RETURNING id),
             kept AS (UPDATE mailbox_changes_pruned SET position = greatest(position, (SELECT coalesce(max(id), 0) FROM gone)))
        SELECT count(*) FROM gone
        """;

    /// <summary>Connects to the database named by <paramref name="connectionString"/> and applies pending migrations.</summary>
    /// <param name="dataDirectory">Where this node keeps its secrets key (every node needs the same one).</param>
    public static PostgresDatabase Open(string connectionString, string dataDirectory)
    {
        PostgresDatabase? database = null;
        try
        {
            database = new PostgresDatabase(connectionString, dataDirectory);
            using (var connection = database.Open())
            {
                PostgresSchemaMigrations.Apply(connection);
            }
            var opened = database;
            database = null;
            return opened;
        }
        finally
        {
            database?.Dispose();
        }
    }

    /// <summary>
    /// As <see cref="ProbeAsync(CancellationToken)"/> for the database named by <paramref name="connectionString"/>,
    /// without migrating it: a database not yet migrated only has to answer (the first command creates the tables).
    /// </summary>
    public static async Task ProbeAsync(string connectionString, CancellationToken cancellationToken)
    {
        using var database = new PostgresDatabase(connectionString, Path.GetTempPath());
        await using (var connection = await database._dataSource.OpenConnectionAsync(cancellationToken))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT to_regclass('mailboxes') IS NOT NULL";
            if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return;
            }
        }
        await database.ProbeAsync(cancellationToken);
    }

    public override async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM (SELECT 1 FROM mailboxes LIMIT 1) AS one";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    internal override NpgsqlConnection Open() => _dataSource.OpenConnection();

    /// <summary>
    /// A connection outside the pool, for LISTEN: a pooled one would keep listening for whoever
    /// takes it next. Keepalive makes a wait notice a connection the network silently lost.
    /// </summary>
    internal NpgsqlConnection CreateListenerConnection(string applicationName) =>
        new(new NpgsqlConnectionStringBuilder(_connectionString)
        {
            Pooling = false,
            ApplicationName = applicationName,
            KeepAlive = 15,
        }.ConnectionString);

    internal override async ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({WriteLockKey})";
        await command.ExecuteNonQueryAsync(cancellationToken);
        return transaction;
    }

    internal override DbTransaction BeginWrite(DbConnection connection)
    {
        var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({WriteLockKey})";
        command.ExecuteNonQuery();
        return transaction;
    }

    // Npgsql sends BEGIN with the transaction's first command: no round trip here.
    internal override async ValueTask<DbTransaction> BeginWriteLockedByFirstCommandAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(cancellationToken);

    // A statement of its own, before the reads: a statement's snapshot is taken when it starts, so a
    // read in the same statement as the lock could miss what the previous writer committed.
    internal override string WriteLockSql => $"SELECT pg_advisory_xact_lock({WriteLockKey});\n";

    internal override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public void Dispose() => _dataSource.Dispose();
}
