using System.Text.Json;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Nodes;

/// <summary><c>node list</c>, and the home node that <c>mailbox add</c> and <c>domain add</c> record.</summary>
[TestFixture]
public sealed class NodeCommandTests
{
    private MailAuthProcess _cli = null!;

    [SetUp]
    public void Start()
    {
        _cli = new MailAuthProcess();
        _cli.Environment["MailAuth__NodeName"] = "Node-A";
        _cli.Environment["MailAuth__Nodes__node-b__Address"] = "192.0.2.12 lmtp=2424 imap=1143";
    }

    [TearDown]
    public void Stop() => _cli.Dispose();

    [Test]
    public async Task MailboxesAreHomedOnTheNodeGivenElseTheDomainsElseThisNodeAndNodeListCountsThem()
    {
        Expect(await _cli.RunAsync("domain", "add", "family.example", "--node", "NODE-B"), 0, "domain family.example added");
        Expect(await _cli.RunAsync("domain", "add", "other.example"), 0, "domain other.example added");
        Expect(await _cli.RunWithInputAsync("Pass-word-1\n", "mailbox", "add", "julie@family.example"), 0, "mailbox julie@family.example added");
        Expect(await _cli.RunWithInputAsync("Pass-word-1\n", "mailbox", "add", "leo@family.example", "--node", "node-a"), 0, "mailbox leo@family.example added");
        Expect(await _cli.RunWithInputAsync("Pass-word-1\n", "mailbox", "add", "anna@other.example"), 0, "mailbox anna@other.example added");

        Assert.That((await _cli.RunAsync("mailbox", "list")).Stdout, Is.EqualTo(
            "julie@family.example\tenabled\tARGON2ID\t0/none\tnode-b\n"
            + "leo@family.example\tenabled\tARGON2ID\t0/none\tnode-a\n"
            + "anna@other.example\tenabled\tARGON2ID\t0/none\tnode-a\n"));
        using (var domains = JsonDocument.Parse((await _cli.RunAsync("domain", "list", "--json")).Stdout))
        {
            Assert.That(domains.RootElement.EnumerateArray().Select(d => d.GetProperty("defaultNode").GetString()), Is.EqualTo(new[] { "node-b", null }));
        }
        Assert.That((await _cli.RunAsync("node", "list")).Stdout, Is.EqualTo(
            "node-a\t-\t2 mailbox(es)\tthis node\n"
            + "node-b\t192.0.2.12 imap=1143 pop3=0 smtp=0 lmtp=2424\t1 mailbox(es)\n"));

        // node-b leaves the settings: the store still names it, and node list says so.
        _cli.Environment.Remove("MailAuth__Nodes__node-b__Address");
        _cli.Environment["MailAuth__Nodes__node-c__Address"] = "192.0.2.13";
        var listed = await _cli.RunAsync("node", "list", "--json");
        Assert.That(listed.ExitCode, Is.Zero, listed.ToString());
        using var json = JsonDocument.Parse(listed.Stdout);
        Assert.That(json.RootElement.GetProperty("nodes").EnumerateArray()
            .Select(n => $"{n.GetProperty("name").GetString()} {n.GetProperty("address").GetString() ?? "-"} this={n.GetProperty("thisNode").GetBoolean()} known={n.GetProperty("known").GetBoolean()} {n.GetProperty("mailboxes").GetInt32()}"),
            Is.EqualTo(new[]
            {
                "node-a - this=True known=True 2",
                "node-b - this=False known=False 1",
                "node-c 192.0.2.13 imap=143 pop3=0 smtp=0 lmtp=0 this=False known=True 0",
            }));
        Assert.That(json.RootElement.GetProperty("mailboxesWithoutHome").GetInt32(), Is.Zero);
        Assert.That((await _cli.RunAsync("node", "list")).Stdout, Does.Contain("node-b\t-\t1 mailbox(es)\tunknown: not in MailAuth:Nodes\n"));
    }

    [Test]
    public async Task BadNodeNamesAreRefusedWithOneLineAndExitCode2()
    {
        Expect(await _cli.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Refused(await _cli.RunWithInputAsync("Pass-word-1\n", "mailbox", "add", "julie@family.example", "--node", "node c"), 2,
            "error: node name 'node c' must be ASCII letters, digits, '-', '_' and '.', starting with a letter or digit");
        Refused(await _cli.RunWithInputAsync("Pass-word-1\n", "mailbox", "add", "julie@family.example", "--node", "node-c"), 2,
            "error: node node-c is neither this node (node-a) nor listed in MailAuth:Nodes (see 'node list')");
        Refused(await _cli.RunAsync("domain", "add", "other.example", "--node", "-x"), 2, null);
        Assert.That((await _cli.RunAsync("mailbox", "list")).Stdout, Is.Empty, "nothing was added");
        Assert.That((await _cli.RunAsync("domain", "list")).Stdout, Is.EqualTo("family.example\t0 mailbox(es)\n"));

        _cli.Environment["MailAuth__Nodes__node-b__Address"] = "mail2.example imap=143";
        _cli.Environment["MailAuth__NodeName"] = "node/a";
        Refused(await _cli.RunAsync("node", "list"), 2,
            "error: invalid configuration: MailAuth:NodeName: node name 'node/a' must be ASCII letters, digits, '-', '_' and '.', starting with a letter or digit; "
            + "MailAuth:Nodes:node-b:Address must start with an IP address (nginx takes no host names), as in '192.0.2.11 imap=143 lmtp=2424', not 'mail2.example imap=143'");
        _cli.Environment["MailAuth__NodeName"] = "node-a";
        _cli.Environment["MailAuth__Nodes__node-b__Address"] = "192.0.2.12 imap=143 imap=144";
        Refused(await _cli.RunAsync("node", "list"), 2,
            "error: invalid configuration: MailAuth:Nodes:node-b:Address has 'imap=144' where one each of imap=PORT, pop3=PORT, smtp=PORT, lmtp=PORT (0 to 65535) may follow the address");
    }
}
