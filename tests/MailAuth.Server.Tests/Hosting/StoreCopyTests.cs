using MailAuth.Core.Tests.Storage;
using Npgsql;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// <c>store copy --to-postgresql</c> on the real program: a SQLite install copied into the test
/// run's PostgreSQL, checked there by the CLI on the PostgreSQL store; refused into a non-empty
/// target unless <c>--force</c>, the same result each time; a password never on the command line.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
public sealed class StoreCopyTests
{
    [Test]
    public async Task ASqliteInstallIsCopiedVerifiedAndCopiedAgainOnlyWhenForced()
    {
        using var sqlite = new MailAuthProcess();
        Expect(await sqlite.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Expect(await sqlite.RunWithInputAsync("Old-pass-1\n", "mailbox", "add", "julie@family.example"), 0, "mailbox julie@family.example added");
        Expect(await sqlite.RunWithInputAsync("Pass-word-2\n", "mailbox", "passwd", "julie@family.example"), 0, "password of julie@family.example changed");
        Expect(await sqlite.RunWithInputAsync("Pass-word-3\n", "mailbox", "add", "tom@family.example"), 0, "mailbox tom@family.example added");
        Expect(await sqlite.RunAsync("mailbox", "disable", "tom@family.example", "--reason", "left"), 0, "mailbox tom@family.example disabled");

        var connectionString = PostgresTestServer.CreateSchema();
        var file = Path.Combine(sqlite.WorkingDirectory, "target.conn");
        File.WriteAllText(file, connectionString + "\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var first = await sqlite.RunAsync("store", "copy", "--to-postgresql", file);
        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        Assert.That(first.Stdout, Does.Contain("domains\t1\n").And.Contain("mailboxes\t2\n").And.Contain("mailbox_changes\t"));
        Assert.That(first.Stdout, Does.Match(@"copied \d+ rows of \d+ tables into postgresql://127\.0\.0\.1:\d+/postgres; row counts match, and 2 mailbox logins read the same credentials from both stores\n$"));

        var again = await sqlite.RunAsync("store", "copy", "--to-postgresql", file);
        Assert.That(again.ExitCode, Is.EqualTo(1), again.ToString());
        Assert.That(OneErrorLine(again), Is.EqualTo(
            "the PostgreSQL store is not empty (rows: 5 in audit_log, 1 in domains, 2 in mailbox_changes, 2 in mailboxes); give --force to replace them"));
        var forced = await sqlite.RunAsync("store", "copy", "--to-postgresql", file, "--force");
        Assert.That(forced.ExitCode, Is.Zero, forced.ToString());
        Assert.That(forced.Stdout, Is.EqualTo(first.Stdout), "copying again gives the same store");

        // The copy, through the program configured for PostgreSQL: the same mailboxes and logins.
        using var postgres = new MailAuthProcess();
        Directory.CreateDirectory(postgres.WorkingDirectory);
        postgres.Environment["MailAuth__Store__Provider"] = "postgresql";
        postgres.Environment["MailAuth__Store__ConnectionStringFile"] = file;
        Assert.That((await postgres.RunAsync("mailbox", "list")).Stdout, Is.EqualTo((await sqlite.RunAsync("mailbox", "list")).Stdout));
        Expect(await postgres.RunWithInputAsync("Pass-word-2\n", "auth", "test", "julie@family.example"), 0, "ok: julie@family.example accepts this password");
        Refused(await postgres.RunWithInputAsync("Old-pass-1\n", "auth", "test", "julie@family.example"), 1, null, "failed: wrong password");
        // Identities continue after the copied rows.
        Expect(await postgres.RunWithInputAsync("Pass-word-4\n", "mailbox", "add", "anna@family.example"), 0, "mailbox anna@family.example added");
        Expect(await postgres.RunWithInputAsync("Pass-word-5\n", "mailbox", "passwd", "anna@family.example"), 0, "password of anna@family.example changed");

        // Refused without a change: a password on the command line, a file others can read, the wrong provider.
        var inline = new NpgsqlConnectionStringBuilder(connectionString) { Password = "secret" }.ToString();
        Refused(await sqlite.RunAsync("store", "copy", "--to-postgresql", inline), 2, null);
        Assert.That(OneErrorLine(await sqlite.RunAsync("store", "copy", "--to-postgresql", inline)), Does.Contain("holds a password"));
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.That(OneErrorLine(await sqlite.RunAsync("store", "copy", "--to-postgresql", file, "--force")), Does.Contain("has mode 0644"));
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Refused(await postgres.RunAsync("store", "copy", "--to-postgresql", file), 2, "error: store copy reads a SQLite store, and MailAuth:Store:Provider is postgresql here");
        Assert.That((await postgres.RunAsync("mailbox", "list")).Stdout, Does.Contain("anna@family.example"), "nothing was replaced");
    }
}
