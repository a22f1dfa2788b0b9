using System.Text.Json;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Cli;

[TestFixture]
public sealed class DomainAndMailboxCommandTests
{
    private MailAuthProcess _cli = null!;

    [SetUp]
    public void Start() => _cli = new MailAuthProcess();

    [TearDown]
    public void Stop() => _cli.Dispose();

    [Test]
    public async Task DomainLifecycle()
    {
        Expect(await _cli.RunAsync("domain", "add", "Family.Example"), 0, "domain family.example added");
        Expect(await _cli.RunAsync("domain", "add", "bücher.example"), 0, "domain xn--bcher-kva.example added");
        var list = await _cli.RunAsync("domain", "list", "--json");
        Assert.That(list.ExitCode, Is.Zero, list.ToString());
        var names = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Select(d => d.GetProperty("name").GetString());
        Assert.That(names, Is.EqualTo(new[] { "family.example", "xn--bcher-kva.example" }));
        Expect(await _cli.RunAsync("domain", "remove", "bücher.example"), 0, "domain bücher.example removed with 0 mailbox(es)");
        Assert.That((await _cli.RunAsync("domain", "list")).Stdout, Is.EqualTo("family.example\t0 mailbox(es)\n"));
    }

    [Test]
    public async Task DomainRefusals()
    {
        await _cli.RunAsync("domain", "add", "family.example");
        Refused(await _cli.RunAsync("domain", "add", "FAMILY.example"), 1, "error: domain family.example already exists");
        Refused(await _cli.RunAsync("domain", "add", "localhost"), 1, "error: invalid domain 'localhost': the domain needs at least two labels (like example.org)");
        Refused(await _cli.RunAsync("domain", "remove", "other.example"), 1, "error: domain other.example does not exist");
        Refused(await _cli.RunAsync("domain", "add"), 2, null);
    }

    [Test]
    public async Task MailboxLifecycleWithAuthTest()
    {
        await _cli.RunAsync("domain", "add", "family.example");
        Expect(await _cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", "Julie@Family.example"), 0, "mailbox julie@family.example added");
        Expect(await _cli.RunWithInputAsync("123-Abc\n", "auth", "test", "julie@family.example"), 0, "ok: julie@family.example accepts this password");
        Refused(await _cli.RunWithInputAsync("123-abc\n", "auth", "test", "julie@family.example"), 1, null, "failed: wrong password");
        Refused(await _cli.RunWithInputAsync("123-Abc\n", "auth", "test", "nobody@family.example"), 1, null, "failed: no such mailbox");

        Expect(await _cli.RunWithInputAsync("new secret\n", "mailbox", "passwd", "julie@family.example"), 0, "password of julie@family.example changed");
        Refused(await _cli.RunWithInputAsync("123-Abc\n", "auth", "test", "julie@family.example"), 1, null, "failed: wrong password");
        Expect(await _cli.RunWithInputAsync("new secret\n", "auth", "test", "julie@family.example"), 0, "ok: julie@family.example accepts this password");

        Expect(await _cli.RunAsync("mailbox", "disable", "julie@family.example", "--reason", "unpaid invoice"), 0, "mailbox julie@family.example disabled");
        Refused(await _cli.RunWithInputAsync("new secret\n", "auth", "test", "julie@family.example"), 1, null, "failed: the mailbox is disabled");
        Assert.That((await _cli.RunAsync("mailbox", "list")).Stdout, Is.EqualTo($"julie@family.example\tdisabled (unpaid invoice)\tARGON2ID\t0/none\t{System.Net.Dns.GetHostName().ToLowerInvariant()}\n"));
        Expect(await _cli.RunAsync("mailbox", "enable", "julie@family.example"), 0, "mailbox julie@family.example enabled");
        Expect(await _cli.RunWithInputAsync("new secret\n", "auth", "test", "julie@family.example"), 0, "ok: julie@family.example accepts this password");

        Expect(await _cli.RunAsync("mailbox", "remove", "julie@family.example"), 0, "mailbox julie@family.example removed");
        Refused(await _cli.RunWithInputAsync("new secret\n", "auth", "test", "julie@family.example"), 1, null, "failed: no such mailbox");
    }

    [Test]
    public async Task MailboxRefusals()
    {
        await _cli.RunAsync("domain", "add", "family.example");
        Refused(await _cli.RunWithInputAsync("pw\n", "mailbox", "add", "julie@unknown.example"), 1,
            "error: domain unknown.example does not exist; add it first with 'domain add unknown.example'");
        Refused(await _cli.RunWithInputAsync("pw\n", "mailbox", "add", "julie@@family.example"), 1,
            "error: invalid address 'julie@@family.example': the address has more than one '@'");
        Refused(await _cli.RunWithInputAsync("\n", "mailbox", "add", "julie@family.example"), 1, "error: the password is empty");
        Refused(await _cli.RunWithInputAsync("", "mailbox", "add", "julie@family.example"), 1, "error: no password on standard input");
        Refused(await _cli.RunWithInputAsync("a\tb\n", "mailbox", "add", "julie@family.example"), 1,
            "error: the password contains control characters (such as a tab or NUL)");
        Refused(await _cli.RunWithInputAsync(new string('x', 1025) + "\n", "mailbox", "add", "julie@family.example"), 1,
            "error: the password is longer than 1024 bytes");
        Expect(await _cli.RunWithInputAsync("pw\n", "mailbox", "add", "julie@family.example"), 0, "mailbox julie@family.example added");
        Refused(await _cli.RunWithInputAsync("other\n", "mailbox", "add", "JULIE@family.example"), 1, "error: mailbox julie@family.example already exists");
        Refused(await _cli.RunWithInputAsync("pw\n", "mailbox", "passwd", "nobody@family.example"), 1, "error: mailbox nobody@family.example does not exist");
        Refused(await _cli.RunAsync("mailbox", "disable", "julie@family.example"), 2, null);
        Refused(await _cli.RunAsync("mailbox", "disable", "julie@family.example", "--reason", " "), 1,
            "error: give a reason of 1 to 200 characters on one line");
        Refused(await _cli.RunAsync("domain", "remove", "family.example"), 1,
            "error: domain family.example still has 1 mailbox(es); remove them first or pass --with-mailboxes");
        Expect(await _cli.RunAsync("domain", "remove", "family.example", "--with-mailboxes"), 0, "domain family.example removed with 1 mailbox(es)");
    }

    [Test]
    public async Task GeneratedPasswordIsPrintedOnceAndWorks()
    {
        await _cli.RunAsync("domain", "add", "family.example");
        var added = await _cli.RunAsync("mailbox", "add", "julie@family.example", "--generate");
        Assert.That(added.ExitCode, Is.Zero, added.ToString());
        var password = added.Stdout.Split('\n').Single(l => l.StartsWith("password: ", StringComparison.Ordinal))["password: ".Length..];
        Assert.That(password, Has.Length.EqualTo(20).And.Match("^[a-zA-Z2-9]+$"));
        Expect(await _cli.RunWithInputAsync(password + "\n", "auth", "test", "julie@family.example"), 0, "ok: julie@family.example accepts this password");
        Assert.That((await _cli.RunAsync("mailbox", "list", "--json")).Stdout, Does.Not.Contain(password));
    }

    [Test]
    public async Task RemovedMailboxKeepsItsMailAsideAndANewOneStartsEmpty()
    {
        await _cli.RunAsync("domain", "add", "family.example");
        await _cli.RunWithInputAsync("pw\n", "mailbox", "add", "julie@family.example");
        var inbox = Path.Combine(_cli.DataDirectory, "mail", "family.example", "julie");
        Directory.CreateDirectory(Path.Combine(inbox, "new"));
        await File.WriteAllTextAsync(Path.Combine(inbox, "new", "1.private"), "Subject: private\r\n\r\nfor julie only\r\n");

        var removed = await _cli.RunAsync("mailbox", "remove", "julie@family.example");
        Assert.That(removed.Stdout, Does.Contain("its mail was moved to " + Path.Combine(_cli.DataDirectory, "removed", "family.example", "julie.")), removed.ToString());
        Assert.That(Directory.Exists(inbox), Is.False, "a mailbox created later with this address must not inherit the mail");
        var kept = Directory.GetFiles(Path.Combine(_cli.DataDirectory, "removed"), "1.private", SearchOption.AllDirectories);
        Assert.That(kept, Has.Length.EqualTo(1), "nothing is deleted");

        await _cli.RunWithInputAsync("pw\n", "mailbox", "add", "julie@family.example");
        await _cli.RunWithInputAsync("pw\n", "mailbox", "add", "anna@family.example");
        Directory.CreateDirectory(Path.Combine(_cli.DataDirectory, "mail", "family.example", "anna", "cur"));
        var domain = await _cli.RunAsync("domain", "remove", "family.example", "--with-mailboxes");
        Assert.That(domain.Stdout, Does.Contain("its mail was moved to"), domain.ToString());
        Assert.That(Directory.Exists(Path.Combine(_cli.DataDirectory, "mail", "family.example", "anna")), Is.False);
    }

    [Test]
    public async Task MailboxListJson()
    {
        await _cli.RunAsync("domain", "add", "family.example");
        await _cli.RunAsync("domain", "add", "other.example");
        await _cli.RunWithInputAsync("pw\n", "mailbox", "add", "julie@family.example");
        await _cli.RunWithInputAsync("pw\n", "mailbox", "add", "bob@other.example");
        var list = await _cli.RunAsync("mailbox", "list", "--domain", "family.example", "--json");
        Assert.That(list.ExitCode, Is.Zero, list.ToString());
        var mailbox = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Single();
        Assert.Multiple(() =>
        {
            Assert.That(mailbox.GetProperty("address").GetString(), Is.EqualTo("julie@family.example"));
            Assert.That(mailbox.GetProperty("disabled").GetBoolean(), Is.False);
            Assert.That(mailbox.GetProperty("hashScheme").GetString(), Is.EqualTo("ARGON2ID"));
        });
    }

    [Test]
    public async Task UsageErrorsExitWithTwo()
    {
        Refused(await _cli.RunAsync("no-such-verb"), 2, null);
        Refused(await _cli.RunAsync("mailbox"), 2, null);
        Refused(await _cli.RunAsync("auth", "test"), 2, null);
        Refused(await _cli.RunAsync("mailbox", "add", "a@b.example", "secret-on-argv"), 2, null);
    }

    [Test]
    public async Task DatabaseNeverHoldsAPlaintextPassword()
    {
        const string Canary = "Plaintext-Canary-7781";
        await _cli.RunAsync("domain", "add", "family.example");
        await _cli.RunWithInputAsync(Canary + "\n", "mailbox", "add", "julie@family.example");
        await _cli.RunWithInputAsync(Canary + "-2\n", "mailbox", "passwd", "julie@family.example");
        var importFile = Path.Combine(_cli.WorkingDirectory, "import.passwd");
        await File.WriteAllTextAsync(importFile, $"anna@family.example:{{PLAIN}}{Canary}-3\n");
        Expect(await _cli.RunAsync("mailbox", "import", importFile), 0,
            "imported 1 mailbox(es); 1 {PLAIN} password(s) hashed now; 0 line(s) skipped");
        await _cli.RunWithInputAsync(Canary + "-3\n", "auth", "test", "anna@family.example");
        await _cli.RunWithInputAsync(Canary + "-wrong\n", "auth", "test", "anna@family.example");

        var stored = _cli.AllStoredBytes();
        Assert.That(stored, Is.Not.Empty);
        Assert.That(System.Text.Encoding.Latin1.GetString(stored), Does.Not.Contain("Plaintext-Canary"));
    }
}
