using System.Data.Common;

namespace MailAuth.Core.Storage;

/// <summary>
/// The database every Core store works through: connections, the one kind of write transaction,
/// and the few things that are said differently by each provider (<see cref="SqliteDatabase"/>,
/// <see cref="PostgresDatabase"/>). The stores' SQL is written once, in the subset both speak.
/// </summary>
public abstract class StoreDatabase
{
    private readonly Lazy<SecretBox> _secrets;

    private protected StoreDatabase(string dataDirectory) =>
        _secrets = new Lazy<SecretBox>(() => SecretBox.OpenOrCreate(System.IO.Path.Combine(dataDirectory, SecretBox.FileName)));

    /// <summary>The key that seals secrets kept in this database; its file (in the data directory) is created on first use.</summary>
    public SecretBox Secrets => _secrets.Value;

    /// <summary>Where the store is, for the log: a file path, or host, port and database (never a password).</summary>
    public abstract string Description { get; }

    /// <summary>Opens the store named by <paramref name="settings"/> and applies pending migrations.</summary>
    public static StoreDatabase Open(StoreSettings settings, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Provider == StoreProvider.PostgreSql
            ? PostgresDatabase.Open(settings.ConnectionString, dataDirectory)
            : SqliteDatabase.OpenInDirectory(dataDirectory);
    }

    /// <summary>
    /// Whether the store answers now (<c>/readyz</c>, <c>config check</c>): a fresh connection and
    /// one read of the mailbox table. Throws the provider's <see cref="DbException"/>.
    /// </summary>
    public abstract Task ProbeAsync(CancellationToken cancellationToken);

    internal abstract DbConnection Open();

    /// <summary>
    /// Begins a transaction that changes the store. Writers take turns, as SQLite's IMMEDIATE
    /// transactions do, so a read inside it sees what the write will change.
    /// </summary>
    internal abstract ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    internal abstract DbTransaction BeginWrite(DbConnection connection);

    /// <summary>
    /// As <see cref="BeginWriteAsync"/>, but the writers' turn is taken by the transaction's first
    /// command, whose text starts with <see cref="WriteLockSql"/> and which is read through
    /// <see cref="ReadAfterWriteLockAsync"/>: on PostgreSQL that saves the lock's own round trip.
    /// </summary>
    internal abstract ValueTask<DbTransaction> BeginWriteLockedByFirstCommandAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>The statement that takes the writers' turn inside a transaction (with its separator), or nothing where the transaction's start took it.</summary>
    internal abstract string WriteLockSql { get; }

    /// <summary>Executes a command that starts with <see cref="WriteLockSql"/>; the reader is at the first result after the lock's.</summary>
    internal async Task<DbDataReader> ReadAfterWriteLockAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (WriteLockSql.Length > 0)
        {
            await reader.NextResultAsync(cancellationToken);
        }
        return reader;
    }

    /// <summary>Whether <paramref name="exception"/> reports a UNIQUE constraint refusing a row.</summary>
    internal abstract bool IsUniqueViolation(DbException exception);

    /// <summary>
    /// The position of the newest mailbox change, as an expression usable inside another SELECT
    /// (one snapshot with the credential read beside it).
    /// </summary>
    internal abstract string LatestChangePositionSql { get; }

    /// <summary>
    /// Deletes the mailbox changes made before <c>@cutoff</c> and selects how many went; the
    /// latest position stays where it was even when every row goes.
    /// </summary>
    internal abstract string PruneChangesSql { get; }
}
