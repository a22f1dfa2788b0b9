namespace MailAuth.Core.Storage;

/// <summary>Which database holds the store (<c>MailAuth:Store</c>).</summary>
public enum StoreProvider
{
    /// <summary>One file in the data directory: one machine.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database shared by any number of nodes.</summary>
    PostgreSql,
}

/// <param name="Provider">The database kind.</param>
/// <param name="ConnectionString">For PostgreSQL: the Npgsql connection string (its password read from a 0600 file or the environment, never the command line); unused for SQLite.</param>
public sealed record StoreSettings(StoreProvider Provider, string ConnectionString)
{
    public static StoreSettings Sqlite { get; } = new(StoreProvider.Sqlite, "");
}
