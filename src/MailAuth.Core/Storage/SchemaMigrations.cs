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

        // 2: manager accounts (the second realm), their grants to mailboxes, unification,
        // reset tokens, the notification outbox and the audit log.
        """
        CREATE TABLE accounts (
            id                  INTEGER PRIMARY KEY,
            login               TEXT UNIQUE,
            recovery_username   TEXT UNIQUE,
            former_login        TEXT,
            password_hash       TEXT NOT NULL,
            name                TEXT NOT NULL,
            phone               TEXT NOT NULL,
            secondary_email     TEXT NOT NULL,
            totp_secret         BLOB,
            totp_last_step      INTEGER,
            credential_version  INTEGER NOT NULL DEFAULT 1,
            created_at          TEXT NOT NULL,
            updated_at          TEXT NOT NULL,
            CHECK ((login IS NULL) <> (recovery_username IS NULL))
        ) STRICT;
        CREATE INDEX accounts_by_phone ON accounts(phone);
        CREATE TABLE account_grants (
            account_id           INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            mailbox_id           INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
            can_change_password  INTEGER NOT NULL,
            PRIMARY KEY (account_id, mailbox_id)
        ) STRICT;
        CREATE INDEX account_grants_by_mailbox ON account_grants(mailbox_id);
        CREATE TABLE unifications (
            account_id  INTEGER NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
            mailbox_id  INTEGER NOT NULL UNIQUE REFERENCES mailboxes(id) ON DELETE CASCADE,
            created_at  TEXT NOT NULL
        ) STRICT;
        CREATE TABLE reset_tokens (
            token_hash  BLOB PRIMARY KEY,
            account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            expires_at  TEXT NOT NULL,
            used_at     TEXT
        ) STRICT;
        CREATE TABLE outbox (
            id          INTEGER PRIMARY KEY,
            channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
            recipient   TEXT NOT NULL,
            subject     TEXT NOT NULL,
            body        TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            sent_at     TEXT
        ) STRICT;
        CREATE TABLE audit_log (
            id       INTEGER PRIMARY KEY,
            at       TEXT NOT NULL,
            actor    TEXT NOT NULL,
            event    TEXT NOT NULL,
            subject  TEXT NOT NULL,
            reason   TEXT NOT NULL
        ) STRICT;
        """,

        // 3: the mailbox change log. Every change that must reach open sessions (a password
        // changed, a mailbox disabled or removed) adds a row in the transaction that makes it;
        // servers read the log to end the sessions a change invalidates. AUTOINCREMENT: a
        // position is never reused, even after old rows are pruned.
        """
        CREATE TABLE mailbox_changes (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            address        TEXT NOT NULL,
            kind           TEXT NOT NULL CHECK (kind IN ('password', 'disabled', 'enabled', 'removed')),
            ends_sessions  INTEGER NOT NULL,
            at             TEXT NOT NULL
        ) STRICT;
        CREATE INDEX mailbox_changes_by_address ON mailbox_changes(address, id);
        """,

        // 4: failure counters that must outlive a process (manager-account logins checked by
        // separate CLI runs, reset requests, 2FA codes), and outbox secrets sealed apart from
        // the message text (SecretBox), erased once handed to a gateway.
        """
        CREATE TABLE throttle_scores (
            realm  TEXT NOT NULL,
            kind   TEXT NOT NULL,
            key    TEXT NOT NULL,
            score  REAL NOT NULL,
            at     TEXT NOT NULL,
            PRIMARY KEY (realm, kind, key)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE throttle_successes (
            realm    TEXT NOT NULL,
            network  TEXT NOT NULL,
            key      TEXT NOT NULL,
            at       TEXT NOT NULL,
            PRIMARY KEY (realm, network, key)
        ) STRICT, WITHOUT ROWID;
        ALTER TABLE outbox ADD COLUMN secret BLOB;
        ALTER TABLE accounts ADD COLUMN totp_failures INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE accounts ADD COLUMN totp_locked_until TEXT;
        """,

        // 5 (quotas, issue 17): a mailbox's storage quota and its domain's default, in bytes; NULL: none.
        """
        ALTER TABLE mailboxes ADD COLUMN quota_bytes INTEGER CHECK (quota_bytes >= 0);
        ALTER TABLE domains ADD COLUMN default_quota_bytes INTEGER CHECK (default_quota_bytes >= 0);
        """,

        // 6 (home nodes, issue 18): the MailAuth node whose Maildir holds a mailbox, and its domain's
        // default for new mailboxes; NULL: not assigned (routed by MailAuth:AuthHttp:Backends as before).
        """
        ALTER TABLE mailboxes ADD COLUMN home_node TEXT;
        ALTER TABLE domains ADD COLUMN default_node TEXT;
        """,

        // 7 (mailbox move, issue 18): the node a mailbox is being moved to (deliveries to it answer a
        // temporary failure meanwhile) and what its Maildir held when the move began; NULL: not moving.
        """
        ALTER TABLE mailboxes ADD COLUMN moving_to TEXT;
        ALTER TABLE mailboxes ADD COLUMN moving_messages INTEGER;
        ALTER TABLE mailboxes ADD COLUMN moving_bytes INTEGER;
        -- The change log learns the kind 'moved' (its sessions end on every node). SQLite changes a
        -- CHECK only by rebuilding the table; the AUTOINCREMENT position goes along (the rename
        -- carries its sqlite_sequence row), so no change position is ever reused.
        CREATE TABLE mailbox_changes_7 (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            address        TEXT NOT NULL,
            kind           TEXT NOT NULL CHECK (kind IN ('password', 'disabled', 'enabled', 'removed', 'moved')),
            ends_sessions  INTEGER NOT NULL,
            at             TEXT NOT NULL
        ) STRICT;
        INSERT INTO mailbox_changes_7 (id, address, kind, ends_sessions, at) SELECT id, address, kind, ends_sessions, at FROM mailbox_changes;
        DELETE FROM sqlite_sequence WHERE name = 'mailbox_changes_7';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'mailbox_changes_7', seq FROM sqlite_sequence WHERE name = 'mailbox_changes';
        DROP TABLE mailbox_changes;
        ALTER TABLE mailbox_changes_7 RENAME TO mailbox_changes;
        CREATE INDEX mailbox_changes_by_address ON mailbox_changes(address, id);
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
