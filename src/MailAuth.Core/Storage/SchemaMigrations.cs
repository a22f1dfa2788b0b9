using Microsoft.Data.Sqlite;

namespace MailAuth.Core.Storage;

/// <summary>
/// Forward-only schema migrations, numbered by SQLite's <c>user_version</c>. Each runs in its own
/// IMMEDIATE transaction so that a server and a CLI starting together apply it exactly once.
/// </summary>
internal static class SchemaMigrations
{
    private static readonly string[] Steps =
    [
        // 1: domains and mailboxes (the mail-credential realm).
        """
        CREATE TABLE domains (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            created_at  TEXT NOT NULL
        ) STRICT;
        CREATE TABLE mailboxes (
            id                  INTEGER PRIMARY KEY,
            domain_id           INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,
            address             TEXT NOT NULL UNIQUE,
            password_hash       TEXT NOT NULL,
            disabled_reason     TEXT,
            credential_version  INTEGER NOT NULL DEFAULT 1,
            created_at          TEXT NOT NULL,
            updated_at          TEXT NOT NULL
        ) STRICT;
        CREATE INDEX mailboxes_by_domain ON mailboxes(domain_id);
        """,
    ];

    public static int LatestVersion => Steps.Length;

    public static void Apply(SqliteConnection connection)
    {
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        while (true)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            var current = ReadVersion(connection, transaction);
            if (current > Steps.Length)
            {
                throw new InvalidOperationException(
                    $"the database schema is version {current}, newer than this program knows ({Steps.Length}); upgrade MailAuth");
            }
            if (current == Steps.Length)
            {
                transaction.Commit();
                return;
            }
            using var step = connection.CreateCommand();
            step.Transaction = transaction;
            step.CommandText = Steps[current] + $"\nPRAGMA user_version = {current + 1};";
            step.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    private static long ReadVersion(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version;";
        return (long)command.ExecuteScalar()!;
    }
}
