using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace MailAuth.Core.Storage;

/// <summary>
/// The embedded database file. The server and the CLI may open the same file at once: WAL mode
/// lets readers proceed during a write, and writers wait (busy timeout) instead of failing.
/// </summary>
public sealed class SqliteDatabase : StoreDatabase
{
    public const string FileName = "mailauth.db";

    private readonly string _connectionString;

    private SqliteDatabase(string path)
        : base(System.IO.Path.GetDirectoryName(path)!)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            ForeignKeys = true,
            Pooling = true,
            // Seconds a statement waits for another process's write lock before giving up.
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    public override string Description => Path;

    internal override string LatestChangePositionSql =>
        "(SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'mailbox_changes'), 0))";

    // AUTOINCREMENT keeps the highest position in sqlite_sequence after its row is deleted.
    internal override string PruneChangesSql => "DELETE FROM mailbox_changes WHERE at < @cutoff; SELECT changes();";

    /// <summary>Opens (creating if needed) the database in <paramref name="dataDirectory"/> and applies pending migrations.</summary>
    public static SqliteDatabase OpenInDirectory(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory, PrivateDirectory);
        var database = new SqliteDatabase(System.IO.Path.Combine(dataDirectory, FileName));
        CreatePrivate(database.Path);
        using var connection = database.Open();
        SchemaMigrations.Apply(connection);
        return database;
    }

    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates the database file with mode 0600 when it does not exist (SQLite takes an empty file
    /// as a new database). SQLite would create it 0644 less the umask, and gives the WAL and SHM files
    /// exactly the database file's mode (umask or not), so this one mode keeps all three private.
    /// </summary>
    private static void CreatePrivate(string path)
    {
        if (File.Exists(path))
        {
            return;
        }
        try
        {
            using var _ = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process (the server or another CLI verb) created it first.
        }
    }

    internal override SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        // FULL: a password change reported as done survives a power cut, WAL or not.
        pragma.CommandText = "PRAGMA synchronous = FULL;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>As <see cref="ProbeAsync(CancellationToken)"/> for the store in <paramref name="dataDirectory"/>, without migrating it.</summary>
    public static Task ProbeInDirectoryAsync(string dataDirectory, CancellationToken cancellationToken) =>
        new SqliteDatabase(System.IO.Path.Combine(dataDirectory, FileName)).ProbeAsync(cancellationToken);

    /// <summary>
    /// A fresh connection that neither creates the file nor comes from the pool (a pooled one keeps
    /// a removed file open), and one read of the mailbox table.
    /// </summary>
    public override async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var connectionString = new SqliteConnectionStringBuilder(_connectionString)
        {
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 5,
        }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM (SELECT 1 FROM mailboxes LIMIT 1)";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>IMMEDIATE (Microsoft.Data.Sqlite's default): the write lock is taken at the start.</summary>
    internal override async ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(cancellationToken);

    internal override DbTransaction BeginWrite(DbConnection connection) => connection.BeginTransaction();

    internal override ValueTask<DbTransaction> BeginWriteLockedByFirstCommandAsync(DbConnection connection, CancellationToken cancellationToken) =>
        BeginWriteAsync(connection, cancellationToken);

    internal override string WriteLockSql => "";

    internal override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteExtendedErrorCode: SqliteConstraintUnique };

    private const int SqliteConstraintUnique = 2067;

    public static void ClearPools() => SqliteConnection.ClearAllPools();
}
