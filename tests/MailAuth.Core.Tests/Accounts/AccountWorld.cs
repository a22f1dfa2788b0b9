using System.Net;
using MailAuth.Core.Accounts;
using MailAuth.Core.Authentication;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Accounts;

/// <summary>A test clock that moves only when told.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Both realms wired together as the server wires them, on a temporary database.</summary>
internal sealed class AccountWorld : IDisposable
{
    private static readonly ClientContext Imap = new(LoginChannel.Imap, "PLAIN", IPAddress.Parse("192.0.2.7"), IsSecure: true);

    public AccountWorld(StoreProvider provider)
    {
        Directory = TestDirectories.Create();
        Database = TestStores.Open(provider, Directory);
        Clock = new ManualClock(DateTimeOffset.UtcNow);
        Journal = new StoreJournal(Database, Clock, NullLogger<StoreJournal>.Instance);
        AccountStore = new ManagerAccountStore(Database, Journal, Clock);
        MailboxStore = new MailboxStore(Database, Clock, Journal, [AccountStore]);
        Hasher = new PasswordHasher(new HashingOptions { MemoryKiB = 1024, Iterations = 1 });
        Pool = new HashingPool(2, 64);
        Authenticator = new MailAuthenticator(new MailboxCredentialStore(Database, Clock), Hasher, Pool, NullLogger<MailAuthenticator>.Instance);
        Admin = new MailboxAdministration(MailboxStore, Hasher, NullLogger<MailboxAdministration>.Instance);
        Accounts = new ManagerAccountService(
            AccountStore, new CredentialVerifier(Hasher, Pool),
            new StoredFailureThrottle(Database, new ThrottleOptions { MaxDelaySeconds = 0 }, Clock, ManagerAccountService.LoginRealm), Clock,
            NullLogger<ManagerAccountService>.Instance);
    }

    public string Directory { get; }

    /// <summary>What the store holds at rest, as hex: SQLite's files, or every row PostgreSQL returns (bytea as hex).</summary>
    public string StoredHex() => Database is SqliteDatabase sqlite
        ? Convert.ToHexString([.. SqliteFiles(sqlite).SelectMany(File.ReadAllBytes)])
        : AllRowsText().ToUpperInvariant();

    /// <summary>What the store holds at rest, as text.</summary>
    public string StoredText() => Database is SqliteDatabase sqlite
        ? System.Text.Encoding.Latin1.GetString([.. SqliteFiles(sqlite).SelectMany(File.ReadAllBytes)])
        : AllRowsText();

    private static IEnumerable<string> SqliteFiles(SqliteDatabase sqlite) =>
        new[] { sqlite.Path, sqlite.Path + "-wal" }.Where(File.Exists);

    private string AllRowsText()
    {
        using var connection = Database.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()";
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }
        var text = new System.Text.StringBuilder();
        foreach (var table in tables)
        {
            using var dump = connection.CreateCommand();
            dump.CommandText = $"SELECT coalesce(string_agg(t::text, E'\n'), '') FROM {table} t";
            text.Append((string)dump.ExecuteScalar()!).Append('\n');
        }
        return text.ToString();
    }

    public StoreDatabase Database { get; }

    public ManualClock Clock { get; }

    public StoreJournal Journal { get; }

    public ManagerAccountStore AccountStore { get; }

    public MailboxStore MailboxStore { get; }

    public IPasswordHasher Hasher { get; }

    public HashingPool Pool { get; }

    public MailAuthenticator Authenticator { get; }

    public MailboxAdministration Admin { get; }

    public ManagerAccountService Accounts { get; }

    /// <summary>An IMAP/SMTP login, through the same authenticator the protocols use.</summary>
    public async Task<bool> MailLoginAsync(string address, string password) =>
        (await Authenticator.AuthenticateAsync(address, password, Imap, default)).Succeeded;

    /// <summary>The network manager logins come from, unless a test says otherwise.</summary>
    public static readonly IPAddress Browser = IPAddress.Parse("192.0.2.80");

    public async Task<AccountLoginStatus> AccountLoginAsync(string identifier, string password, string? totp = null, IPAddress? from = null) =>
        (await Accounts.LoginAsync(identifier, password, totp, from ?? Browser, default)).Status;

    /// <summary>Hands the outbox to a "gateway": the messages not yet sent, with their secrets.</summary>
    public async Task<IReadOnlyList<Notifications.OutboxMessage>> DispatchAsync() =>
        await ((Notifications.INotificationOutbox)Journal).DispatchAsync(10_000, default);

    public async Task<IReadOnlyList<string>> AuditEventsAsync() =>
        [.. (await Journal.ListAsync(10_000, default)).Select(e => $"{e.Event} {e.Subject}: {e.Reason}")];

    public async Task<IReadOnlyList<Notifications.OutboxMessage>> OutboxAsync() =>
        await ((Notifications.INotificationOutbox)Journal).ListAsync(10_000, default);

    /// <summary>The 2FA secret in an otpauth:// URI, as an authenticator app reads it (base32).</summary>
    public static byte[] TotpSecretOf(string uri)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var text = System.Text.RegularExpressions.Regex.Match(uri, "secret=([A-Z2-7]+)").Groups[1].Value;
        var output = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            buffer = (buffer << 5) | Alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                output.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return [.. output];
    }

    public void Dispose()
    {
        Pool.Dispose();
        TestDirectories.Remove(Directory);
    }
}
