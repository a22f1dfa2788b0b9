using MailAuth.Core.Tests.Storage;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Smtp;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// Two <c>mailauth serve</c> nodes, each with its own ports and data directory, on one PostgreSQL:
/// wrong guesses spread over both are throttled as on one node, and while PostgreSQL is down a
/// login is a temporary failure on every protocol (never a wrong password) and open sessions go on.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
[NonParallelizable] // it stops the PostgreSQL that other fixtures share
public sealed class PostgresClusterTests
{
    private const string Address = "julie@family.example";
    private const string Password = "Pass-word-0";

    private MailAuthProcess _cliA = null!;
    private MailAuthProcess _cliB = null!;
    private RunningServer _nodeA = null!;
    private RunningServer _nodeB = null!;

    [SetUp]
    public async Task StartTwoNodes()
    {
        var store = PostgresTestServer.CreateSchema();
        _cliA = OnStore(store);
        _cliB = OnStore(store);
        _nodeA = await RunningServer.StartAsync(existing: _cliA);
        _nodeB = await RunningServer.StartAsync(existing: _cliB);
        Expect(await _cliA.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Expect(await _cliA.RunWithInputAsync(Password + "\n", "mailbox", "add", Address), 0, $"mailbox {Address} added");
    }

    [TearDown]
    public async Task StopNodes()
    {
        await _nodeB.DisposeAsync();
        await _nodeA.DisposeAsync();
        _cliB.Dispose();
        _cliA.Dispose();
    }

    private static MailAuthProcess OnStore(string connectionString)
    {
        var cli = MailAuthProcess.OnPostgres(connectionString);
        // Refusals answer at once: the test counts them, it does not wait for them.
        cli.Environment["MailAuth__Authentication__Throttle__MaxDelaySeconds"] = "0";
        return cli;
    }

    [Test]
    public async Task TenWrongGuessesSpreadOverBothNodesAreThrottledAsOnOne()
    {
        for (var guess = 1; guess <= 10; guess++)
        {
            await using var client = await ImapTestClient.ConnectAsync(guess % 2 == 1 ? _nodeA : _nodeB);
            Assert.That((await client.CommandAsync("g", $"LOGIN {Address} wrong-{guess}"))[^1], Is.EqualTo("g NO [AUTHENTICATIONFAILED] Authentication failed"));
        }
        // Each node saw five guesses from 127.0.0.1: on its own, neither refuses one (the pair limit is five).
        Assert.That(await CountedAsync("reason=throttled protocol=imap", 5), Is.True, _nodeA.Log + _nodeB.Log);
        Assert.That(Count("reason=wrong-password protocol=imap"), Is.EqualTo(5), "five Argon2 verifications in all, then refusals on both nodes");
        Assert.That(Count(_nodeA, "reason=throttled"), Is.GreaterThan(0));
        Assert.That(Count(_nodeB, "reason=throttled"), Is.GreaterThan(0));

        // Lifted on node A, lifted everywhere: the right password then logs in on node B.
        var clear = await _cliA.RunAsync("throttle", "clear", "127.0.0.1");
        Assert.That(clear.ExitCode, Is.Zero, clear.ToString());
        Assert.That(clear.Stdout, Is.EqualTo("cleared 4 entr(y/ies) for 127.0.0.1\n"), "the pair and the network, in node A's memory and in the store");
        await using var afterClear = await ImapTestClient.ConnectAsync(_nodeB);
        Assert.That((await afterClear.CommandAsync("l", $"LOGIN {Address} {Password}"))[^1], Does.StartWith("l OK"));
    }

    [Test]
    public async Task WhilePostgreSqlIsDownLoginsFailTemporarilyAndOpenSessionsGoOn()
    {
        await using var open = await ImapTestClient.ConnectAsync(_nodeB);
        Assert.That((await open.CommandAsync("l", $"LOGIN {Address} {Password}"))[^1], Does.StartWith("l OK"));
        Assert.That((await open.CommandAsync("s", "SELECT INBOX"))[^1], Does.StartWith("s OK"));

        PostgresTestServer.Pause();
        try
        {
            foreach (var (node, password) in new[] { (_nodeB, Password), (_nodeA, "wrong") })
            {
                await using var imap = await ImapTestClient.ConnectAsync(node);
                Assert.That((await imap.CommandAsync("l", $"LOGIN {Address} {password}"))[^1],
                    Is.EqualTo("l NO [UNAVAILABLE] The server is busy, try again shortly"), "never a wrong-password answer");
            }
            await using var smtp = await SmtpTranscript.ConnectAsync(_nodeA, implicitTls: false);
            await smtp.CommandAsync("EHLO client.example");
            Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64($"\0{Address}\0{Password}")),
                Is.EqualTo("454 4.7.0 Temporary authentication failure"));
            Assert.That(await smtp.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"));

            Assert.That((await open.CommandAsync("n", "NOOP"))[^1], Does.StartWith("n OK"), "the open session goes on");
            Assert.That((await open.CommandAsync("t", "STATUS INBOX (MESSAGES)"))[^1], Does.StartWith("t OK"));
            Assert.That(await _nodeA.LoggedAsync("auth store unavailable"), Is.True, _nodeA.Log);
            Assert.That(await _nodeB.LoggedAsync("reason=store-unavailable protocol=imap"), Is.True, _nodeB.Log);
        }
        finally
        {
            PostgresTestServer.Resume();
        }

        // Back: the next logins succeed without a restart (the pool's dead connections are replaced).
        // Retried as a client would, a quarter of a second apart, not in a tight loop.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var answers = new List<string>();
        string answer;
        do
        {
            if (answers.Count > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
            await using var again = await ImapTestClient.ConnectAsync(_nodeA);
            answer = (await again.CommandAsync("l", $"LOGIN {Address} {Password}"))[^1];
            answers.Add(answer);
        }
        while (!answer.StartsWith("l OK", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
        Assert.That(answer, Does.StartWith("l OK"), string.Join("\n", answers.Distinct()) + "\n" + _nodeA.Log[^Math.Min(_nodeA.Log.Length, 6000)..]);
        Assert.That((await open.CommandAsync("n", "NOOP"))[^1], Does.StartWith("n OK"), "the session opened before the outage is still there");
    }

    private int Count(string text) => Count(_nodeA, text) + Count(_nodeB, text);

    private static int Count(RunningServer node, string text) => node.Log.Split(text).Length - 1;

    /// <summary>Whether both logs hold <paramref name="expected"/> lines with <paramref name="text"/> within 10 s (the console logger writes on its own thread).</summary>
    private async Task<bool> CountedAsync(string text, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Count(text) < expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(25);
        }
        return Count(text) == expected;
    }
}
