using System.Diagnostics;
using System.Globalization;
using MailAuth.Core.Tests.Storage;
using MailAuth.Server.Tests.Imap;
using Npgsql;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Sessions;

/// <summary>
/// Two <c>mailauth serve</c> nodes, each with its own ports and data directory, on one PostgreSQL:
/// a password changed by node A's CLI ends node B's open IMAP session at once (LISTEN/NOTIFY), and
/// when B's listening connection is killed, a change made while nobody listened is still found.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
[NonParallelizable] // it ends every change-listener connection on the shared PostgreSQL, other fixtures' too
public sealed class MailboxChangeAcrossNodesTests
{
    private const string Address = "julie@family.example";
    private const string Listening = "mailbox changes: listening on PostgreSQL channel mailauth_mailbox_changes";

    private string _store = null!;
    private MailAuthProcess _cliA = null!;
    private MailAuthProcess _cliB = null!;
    private RunningServer _nodeA = null!;
    private RunningServer _nodeB = null!;

    [SetUp]
    public async Task StartTwoNodes()
    {
        _store = PostgresTestServer.CreateSchema();
        _cliA = MailAuthProcess.OnPostgres(_store);
        _cliB = MailAuthProcess.OnPostgres(_store);
        _nodeA = await RunningServer.StartAsync(existing: _cliA);
        _nodeB = await RunningServer.StartAsync(existing: _cliB);
        Expect(await _cliA.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Expect(await _cliA.RunWithInputAsync("Pass-word-0\n", "mailbox", "add", Address), 0, $"mailbox {Address} added");
        Assert.That(await _nodeA.LoggedAsync(Listening), Is.True, _nodeA.Log);
        Assert.That(await _nodeB.LoggedAsync(Listening), Is.True, _nodeB.Log);
    }

    [TearDown]
    public async Task StopNodes()
    {
        await _nodeB.DisposeAsync();
        await _nodeA.DisposeAsync();
        _cliB.Dispose();
        _cliA.Dispose();
    }

    [Test]
    public async Task APasswordChangedOnNodeAEndsTheSessionOnNodeBWithinASecond()
    {
        var delays = new List<double>();
        for (var run = 1; run <= 3; run++)
        {
            await using var client = await LoggedInOnNodeBAsync($"Pass-word-{run - 1}");
            var bye = ByeAsync(client);
            Expect(await _cliA.RunWithInputAsync($"Pass-word-{run}\n", "mailbox", "passwd", Address), 0, $"password of {Address} changed");
            var endedAt = await bye.WaitAsync(TimeSpan.FromSeconds(5));
            var delay = (endedAt - await LatestChangeAtAsync()).TotalMilliseconds;
            delays.Add(delay);
            Assert.That(delay, Is.LessThan(2000), "node B's session ends within a second or so of node A's change");
        }
        delays.Sort();
        TestContext.Out.WriteLine($"node B's session ended {delays[1]:F0} ms (median of {string.Join(", ", delays.Select(d => d.ToString("F0", CultureInfo.InvariantCulture)))}) after node A's change");
        Refused(await _cliB.RunWithInputAsync("Pass-word-2\n", "auth", "test", Address), 1, null, "failed: wrong password");
    }

    [Test]
    public async Task AChangeMadeWhileNodeBWasNotListeningIsStillSeen()
    {
        await using var client = await LoggedInOnNodeBAsync("Pass-word-0");
        var bye = ByeAsync(client);
        // Node B is stopped while its listening connection is killed and the change is made, so
        // the notification certainly reaches nobody on B: only reading the log can find the change.
        Signal("-STOP", _nodeB.ProcessId);
        try
        {
            Assert.That(await TerminateListenersAsync(), Is.EqualTo(2), "one listening connection per node");
            Expect(await _cliA.RunWithInputAsync("Pass-word-1\n", "mailbox", "passwd", Address), 0, $"password of {Address} changed");
        }
        finally
        {
            Signal("-CONT", _nodeB.ProcessId);
        }
        var endedAt = await bye.WaitAsync(TimeSpan.FromSeconds(5));
        TestContext.Out.WriteLine($"missed notification: session ended {(endedAt - await LatestChangeAtAsync()).TotalMilliseconds:F0} ms after the change (node B stopped meanwhile)");
        Assert.That(await _nodeB.LoggedAsync("mailbox changes: listening connection lost, reading the log and listening again"), Is.True, _nodeB.Log);
        Assert.That(await ListeningAgainAsync(_nodeB), Is.True, _nodeB.Log);

        // Listening again: the next change reaches B's next session as at first.
        await using var again = await LoggedInOnNodeBAsync("Pass-word-1");
        var secondBye = ByeAsync(again);
        Expect(await _cliA.RunWithInputAsync("Pass-word-2\n", "mailbox", "passwd", Address), 0, $"password of {Address} changed");
        Assert.That((await secondBye.WaitAsync(TimeSpan.FromSeconds(5)) - await LatestChangeAtAsync()).TotalMilliseconds, Is.LessThan(2000));
    }

    private async Task<ImapTestClient> LoggedInOnNodeBAsync(string password)
    {
        var client = await ImapTestClient.ConnectAsync(_nodeB);
        Assert.That((await client.CommandAsync("l", $"LOGIN {Address} {password}"))[^1], Does.StartWith("l OK"));
        return client;
    }

    /// <summary>When the server's <c>* BYE</c> arrived, read as it comes, while the change is being made.</summary>
    private static Task<DateTimeOffset> ByeAsync(ImapTestClient client) => Task.Run(async () =>
    {
        while (await client.TryReadLineAsync() is { } line)
        {
            if (line == "* BYE Your credentials changed, log in again")
            {
                return DateTimeOffset.UtcNow;
            }
        }
        throw new AssertionException("the session closed without its BYE");
    });

    /// <summary>When the newest change was recorded (the <c>at</c> of its row, just before its commit).</summary>
    private async Task<DateTimeOffset> LatestChangeAtAsync()
    {
        await using var connection = new NpgsqlConnection(_store);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT at FROM mailbox_changes ORDER BY id DESC LIMIT 1", connection);
        return DateTimeOffset.Parse((string)(await command.ExecuteScalarAsync())!, CultureInfo.InvariantCulture);
    }

    private static async Task<int> TerminateListenersAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresTestServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            WITH listeners AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE application_name = 'mailauth change listener')
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM listeners
            """, connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task<bool> ListeningAgainAsync(RunningServer node)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (node.Log.Split(Listening).Length - 1 < 2)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(25);
        }
        return true;
    }

    private static void Signal(string signal, int processId)
    {
        using var kill = Process.Start("kill", [signal, processId.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.That(kill.ExitCode, Is.Zero);
    }
}
