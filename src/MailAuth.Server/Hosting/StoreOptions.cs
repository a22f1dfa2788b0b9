using MailAuth.Core.Storage;

namespace MailAuth.Server.Hosting;

/// <summary>
/// <c>MailAuth:Store</c>: which database holds domains, mailboxes, accounts and the rest. SQLite
/// (one file in the data directory) for one machine; PostgreSQL for several nodes sharing one store.
/// </summary>
internal sealed class StoreOptions
{
    public const string Sqlite = "sqlite";

    public const string PostgreSql = "postgresql";

    public string Provider { get; set; } = Sqlite;

    /// <summary>Npgsql connection string without a password (the password comes from PGPASSWORD, a passfile, or <see cref="ConnectionStringFile"/>).</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>A file (mode 0600 or stricter) holding the whole connection string, password included.</summary>
    public string ConnectionStringFile { get; set; } = "";

    public IEnumerable<string> Validate()
    {
        if (Provider is not (Sqlite or PostgreSql))
        {
            yield return $"MailAuth:Store:Provider must be {Sqlite} or {PostgreSql}, not '{Provider}'";
            yield break;
        }
        if (Provider == Sqlite)
        {
            if (ConnectionString.Length > 0 || ConnectionStringFile.Length > 0)
            {
                yield return "MailAuth:Store:ConnectionString and ConnectionStringFile are for the postgresql provider; "
                    + "MailAuth:Store:Provider is sqlite (the database is in MailAuth:DataDirectory)";
            }
            yield break;
        }
        if ((ConnectionString.Length > 0) == (ConnectionStringFile.Length > 0))
        {
            yield return "MailAuth:Store:Provider postgresql needs exactly one of MailAuth:Store:ConnectionString and MailAuth:Store:ConnectionStringFile";
            yield break;
        }
        if (ConnectionString.Length > 0)
        {
            foreach (var problem in PostgresConnectionString.Check(ConnectionString, passwordAllowed: false))
            {
                yield return $"MailAuth:Store:ConnectionString {problem}";
            }
            yield break;
        }
        var fileProblem = CheckFile(ConnectionStringFile);
        if (fileProblem is not null)
        {
            yield return $"MailAuth:Store:ConnectionStringFile {fileProblem}";
            yield break;
        }
        foreach (var problem in PostgresConnectionString.Check(ReadFile(ConnectionStringFile), passwordAllowed: true))
        {
            yield return $"MailAuth:Store:ConnectionStringFile {ConnectionStringFile}: {problem}";
        }
    }

    /// <summary>The validated settings as Core takes them; reads <see cref="ConnectionStringFile"/>.</summary>
    public StoreSettings ToSettings() => Provider == PostgreSql
        ? new StoreSettings(StoreProvider.PostgreSql, ConnectionString.Length > 0 ? ConnectionString : ReadFile(ConnectionStringFile))
        : StoreSettings.Sqlite;

    private static string ReadFile(string path) => File.ReadAllText(path).Trim();

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The file holds a password: only its owner may read it.</summary>
    internal static string? CheckFile(string path)
    {
        if (!Path.IsPathFullyQualified(path))
        {
            return $"must be an absolute path, not '{path}'";
        }
        if (!File.Exists(path))
        {
            return $"{path} does not exist";
        }
        var mode = File.GetUnixFileMode(path);
        if ((mode & GroupOrOthers) != 0)
        {
            return $"{path} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}: it holds a password, make it 0600 (chmod 600)";
        }
        try
        {
            using var _ = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{path} cannot be read: {e.Message}";
        }
        return null;
    }
}
