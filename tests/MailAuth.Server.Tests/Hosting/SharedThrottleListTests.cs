using System.Text.Json;
using MailAuth.Core.Tests.Storage;
using MailAuth.Server.Tests.Imap;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// <c>throttle list</c> on a node of a PostgreSQL cluster shows the failure counts every node
/// shares, marked as such, beside its own memory: a wrong password given to node A is listed by node B.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
public sealed class SharedThrottleListTests
{
    private const string Address = "julie@family.example";

    [Test]
    public async Task AFailureOnNodeAIsListedAsSharedOnNodeB()
    {
        var store = PostgresTestServer.CreateSchema();
        using var cliA = MailAuthProcess.OnPostgres(store);
        using var cliB = MailAuthProcess.OnPostgres(store);
        await using var nodeA = await RunningServer.StartAsync(existing: cliA);
        await using var nodeB = await RunningServer.StartAsync(existing: cliB);
        Expect(await cliA.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Expect(await cliA.RunWithInputAsync("Pass-word-0\n", "mailbox", "add", Address), 0, $"mailbox {Address} added");

        await using (var imap = await ImapTestClient.ConnectAsync(nodeA))
        {
            Assert.That((await imap.CommandAsync("g", $"LOGIN {Address} wrong"))[^1], Is.EqualTo("g NO [AUTHENTICATIONFAILED] Authentication failed"));
        }

        var listed = await cliB.RunAsync("throttle", "list");
        Assert.That(listed.ExitCode, Is.Zero, listed.ToString());
        // Node B's memory saw nothing: every line is a shared count, at one failure of its limit.
        Assert.That(listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(), Is.EqualTo(new[]
        {
            $"address\t{Address}\t1/20\tshared",
            "network\t127.0.0.1\t1/30\tshared",
            $"pair\t127.0.0.1 {Address}\t1/5\tshared",
        }));
        var onA = await cliA.RunAsync("throttle", "list", "--json");
        using var json = JsonDocument.Parse(onA.Stdout);
        var pairs = json.RootElement.EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "pair")
            .Select(e => $"{e.GetProperty("key").GetString()} {e.GetProperty("failures").GetDouble()} shared={e.GetProperty("shared").GetBoolean()}");
        Assert.That(pairs, Is.EqualTo(new[] { $"127.0.0.1 {Address} 1 shared=False", $"127.0.0.1 {Address} 1 shared=True" }),
            "node A lists its own memory first, then the shared count");
    }
}
