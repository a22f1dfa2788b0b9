using System.Text.Json;
using MailAuth.Core.Tests.Storage;
using MailAuth.Server.Tests.Imap;
using MailKit.Security;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// The real program with <c>MailAuth:Store:Provider=postgresql</c> on the test run's PostgreSQL:
/// the CLI verbs, <c>config check</c>, and <c>serve</c> logging in a real IMAP client; the
/// password comes from a 0600 file, and nothing of the store is written to the data directory.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
public sealed class PostgresStoreTests
{
    private const string Domain = "family.example";

    private static MailAuthProcess OnPostgres() => MailAuthProcess.OnPostgres(PostgresTestServer.CreateSchema());

    [Test]
    public async Task CliVerbsWorkAgainstPostgreSql()
    {
        using var cli = OnPostgres();
        Expect(await cli.RunAsync("domain", "add", Domain), 0, "domain family.example added");
        Refused(await cli.RunAsync("domain", "add", "FAMILY.example"), 1, "error: domain family.example already exists");
        Expect(await cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", "Julie@Family.example"), 0, "mailbox julie@family.example added");
        Expect(await cli.RunWithInputAsync("123-Abc\n", "auth", "test", "julie@family.example"), 0, "ok: julie@family.example accepts this password");
        Expect(await cli.RunWithInputAsync("new secret\n", "mailbox", "passwd", "julie@family.example"), 0, "password of julie@family.example changed");
        Refused(await cli.RunWithInputAsync("123-Abc\n", "auth", "test", "julie@family.example"), 1, null, "failed: wrong password");
        Expect(await cli.RunAsync("mailbox", "disable", "julie@family.example", "--reason", "unpaid invoice"), 0, "mailbox julie@family.example disabled");
        Assert.That((await cli.RunAsync("mailbox", "list")).Stdout, Is.EqualTo($"julie@family.example\tdisabled (unpaid invoice)\tARGON2ID\t0/none\t{System.Net.Dns.GetHostName().ToLowerInvariant()}\n"));
        Expect(await cli.RunAsync("mailbox", "enable", "julie@family.example"), 0, "mailbox julie@family.example enabled");
        var domains = await cli.RunAsync("domain", "list", "--json");
        Assert.That(JsonDocument.Parse(domains.Stdout).RootElement.EnumerateArray().Select(d => d.GetProperty("name").GetString()), Is.EqualTo(new[] { Domain }));
        Expect(await cli.RunAsync("config", "check"), 0, $"configuration OK (data directory {cli.DataDirectory})");
        Expect(await cli.RunAsync("mailbox", "remove", "julie@family.example"), 0, "mailbox julie@family.example removed");
        Refused(await cli.RunWithInputAsync("new secret\n", "auth", "test", "julie@family.example"), 1, null, "failed: no such mailbox");
        Assert.That(File.Exists(Path.Combine(cli.DataDirectory, MailAuth.Core.Storage.SqliteDatabase.FileName)), Is.False, "no SQLite store beside PostgreSQL");
    }

    [Test]
    public async Task ServeLogsInAnImapClientAndAPasswordChangeEndsItsSession()
    {
        using var cli = OnPostgres();
        await using var server = await RunningServer.StartAsync(existing: cli);
        Assert.That(server.Log, Does.Contain("postgresql://127.0.0.1:"));
        Expect(await cli.RunAsync("domain", "add", Domain), 0, "domain family.example added");
        Expect(await cli.RunWithInputAsync("Pass-word-1\n", "mailbox", "add", "julie@family.example"), 0, "mailbox julie@family.example added");

        using (var mailKit = await MailKitClients.ImapAsync(server, "julie@family.example", "Pass-word-1", SecureSocketOptions.StartTls))
        {
            Assert.That(mailKit.IsAuthenticated, Is.True);
            var inbox = await mailKit.GetFolderAsync("INBOX");
            await inbox.OpenAsync(MailKit.FolderAccess.ReadOnly);
            Assert.That(inbox.Count, Is.Zero);
            await mailKit.DisconnectAsync(quit: true);
        }

        await using var client = await ImapTestClient.ConnectAsync(server);
        Assert.That((await client.CommandAsync("l", "LOGIN julie@family.example Pass-word-1"))[^1], Does.StartWith("l OK"));
        Expect(await cli.RunWithInputAsync("Pass-word-2\n", "mailbox", "passwd", "julie@family.example"), 0, "password of julie@family.example changed");
        var started = DateTime.UtcNow;
        var lines = new List<string>();
        while (await client.TryReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5)) is { } line)
        {
            lines.Add(line);
        }
        Assert.That(lines, Does.Contain("* BYE Your credentials changed, log in again"));
        TestContext.Out.WriteLine($"session ended {(DateTime.UtcNow - started).TotalMilliseconds:F0} ms after the CLI's change");
    }

    [Test]
    public async Task AConnectionStringFileOthersCanReadIsRefused()
    {
        using var cli = OnPostgres();
        var file = cli.Environment["MailAuth__Store__ConnectionStringFile"];
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Refused(await cli.RunAsync("domain", "list"), 2,
            $"error: invalid configuration: MailAuth:Store:ConnectionStringFile {file} has mode 0644: it holds a password, make it 0600 (chmod 600)");
    }
}
