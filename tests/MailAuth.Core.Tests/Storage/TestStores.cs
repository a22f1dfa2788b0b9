using System.Collections.Concurrent;
using MailAuth.Core.Storage;

namespace MailAuth.Core.Tests.Storage;

/// <summary>
/// The store of a test directory on either provider: SQLite in the directory itself, or a fresh
/// schema on the test run's PostgreSQL. Opening the same directory again (another "process") opens
/// the same store; <see cref="TestDirectories.Remove"/> releases it.
/// </summary>
internal static class TestStores
{
    /// <summary>NUnit fixture arguments: the PostgreSQL instance runs a real server, so it is External.</summary>
    public const string PostgresCategories = "External,PostgreSQL";

    private static readonly ConcurrentDictionary<string, string> Schemas = new();

    /// <summary>Migrated schemas emptied by an earlier test: reusing one costs a TRUNCATE, not the schema's DDL.</summary>
    private static readonly ConcurrentQueue<string> Emptied = new();
    private static readonly ConcurrentDictionary<string, ConcurrentBag<PostgresDatabase>> Opened = new();

    public static StoreDatabase Open(StoreProvider provider, string directory)
    {
        if (provider == StoreProvider.Sqlite)
        {
            return SqliteDatabase.OpenInDirectory(directory);
        }
        var connectionString = ConnectionString(directory);
        var database = PostgresDatabase.Open(connectionString, directory);
        Opened.GetOrAdd(directory, _ => []).Add(database);
        return database;
    }

    /// <summary>The connection string of the directory's PostgreSQL schema (created if needed).</summary>
    public static string ConnectionString(string directory) =>
        Schemas.GetOrAdd(directory, _ => Emptied.TryDequeue(out var reused) ? reused : PostgresTestServer.CreateSchema());

    public static void Release(string directory)
    {
        if (Opened.TryRemove(directory, out var databases))
        {
            foreach (var database in databases)
            {
                database.Dispose();
            }
        }
        if (Schemas.TryRemove(directory, out var connectionString))
        {
            PostgresTestServer.Empty(connectionString);
            Emptied.Enqueue(connectionString);
        }
    }
}
