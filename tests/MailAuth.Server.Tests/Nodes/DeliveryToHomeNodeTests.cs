using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MailAuth.Core.Tests.Storage;
using MailAuth.Server.Tests.Hostile;
using MailAuth.Server.Tests.Imap;
using MailKit.Net.Smtp;
using MailKit.Security;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Nodes;

/// <summary>
/// One PostgreSQL, two <c>mailauth serve</c> nodes with their own LMTP ports and data directories:
/// mail for a mailbox homed on node B that arrives at node A, by LMTP (as from Postfix) or by
/// submission, is handed to B's LMTP and stored only in B's data directory, with B's own answer
/// relayed per recipient; with B stopped, A answers 4xx for it and stores nothing.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
public sealed class DeliveryToHomeNodeTests
{
    private const string Julie = "julie@family.example"; // homed on node B
    private const string Anna = "anna@family.example"; // homed on node A
    private const string Password = "Pass-word-0";

    private MailAuthProcess _cliA = null!;
    private MailAuthProcess _cliB = null!;
    private RunningServer _nodeA = null!;
    private RunningServer _nodeB = null!;
    private bool _nodeBStopped;
    private int _lmtpA;
    private int _lmtpB;

    [OneTimeSetUp]
    public async Task StartTwoNodes()
    {
        var store = PostgresTestServer.CreateSchema();
        _cliA = MailAuthProcess.OnPostgres(store);
        _cliB = MailAuthProcess.OnPostgres(store);
        _lmtpA = RunningServer.FreePort();
        _lmtpB = RunningServer.FreePort();
        var nodes = new Dictionary<string, string>
        {
            ["MailAuth__Nodes__node-a__Address"] = $"127.0.0.1 lmtp={_lmtpA}",
            ["MailAuth__Nodes__node-b__Address"] = $"127.0.0.1 lmtp={_lmtpB}",
        };
        _nodeA = await RunningServer.StartAsync(new Dictionary<string, string>(nodes)
        {
            ["MailAuth__NodeName"] = "node-a",
            ["MailAuth__Lmtp__TcpPort"] = _lmtpA.ToString(CultureInfo.InvariantCulture),
            ["MailAuth__Smtp__RelayTimeoutSeconds"] = "5",
        }, _cliA);
        // Node B takes the hand-overs on its port for the other nodes, as across machines.
        _nodeB = await RunningServer.StartAsync(new Dictionary<string, string>(nodes)
        {
            ["MailAuth__NodeName"] = "node-b",
            ["MailAuth__Lmtp__NodePort"] = _lmtpB.ToString(CultureInfo.InvariantCulture),
        }, _cliB);
        Expect(await _cliA.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Expect(await _cliA.RunWithInputAsync(Password + "\n", "mailbox", "add", Julie, "--node", "node-b"), 0, $"mailbox {Julie} added");
        Expect(await _cliA.RunWithInputAsync(Password + "\n", "mailbox", "add", Anna, "--node", "node-a"), 0, $"mailbox {Anna} added");
    }

    [OneTimeTearDown]
    public async Task StopBoth()
    {
        await _nodeA.DisposeAsync();
        if (!_nodeBStopped)
        {
            await _nodeB.DisposeAsync();
        }
        _cliB.Dispose();
        _cliA.Dispose();
    }

    [Test]
    [Order(1)]
    public async Task MailForAMailboxHomedOnBThatArrivesAtAIsStoredOnlyOnB()
    {
        var replies = await LmtpAsync(_lmtpA, "Subject: by LMTP at node A\r\n\r\nhello\r\n", Julie, Anna);

        Assert.That(replies[0], Does.Match($"^250 2\\.0\\.0 <{Julie}> \\S+ Saved$"), _nodeA.Log);
        Assert.That(replies[1], Does.Match($"^250 2\\.0\\.0 <{Anna}> \\S+ Saved$"));
        Assert.That(await _nodeA.LoggedAsync($"to={Julie} handed to node node-b at 127.0.0.1:"), Is.True, _nodeA.Log);
        Assert.That(await _nodeB.LoggedAsync($"to={Julie} size="), Is.True, _nodeB.Log);
        var onB = Messages(_cliB, Julie);
        Assert.That(onB, Has.Length.EqualTo(1));
        // Both nodes' trace headers, and B's own Delivered-To (A added none of its own).
        Assert.That(onB[0].Split("Received: ").Length - 1, Is.EqualTo(2), onB[0]);
        Assert.That(onB[0], Does.StartWith($"Return-Path: <sender@example.org>\r\nDelivered-To: {Julie}\r\nReceived: "));
        Assert.That(onB[0].Split("Delivered-To: ").Length - 1, Is.EqualTo(1), onB[0]);
        Assert.That(Messages(_cliA, Anna), Has.Length.EqualTo(1));

        using (var smtp = await MailKitClients.SmtpAsync(_nodeA, SecureSocketOptions.StartTls))
        {
            await smtp.AuthenticateAsync(MailKitClients.Sasl("PLAIN", Anna, Password));
            var reply = await smtp.SendAsync(MailKitClients.Message(Anna, Julie, "submitted at node A", DateTimeOffset.UtcNow));
            Assert.That(reply, Does.Contain("Message accepted").IgnoreCase.Or.Contain("2.0.0"), _nodeA.Log);
            await smtp.DisconnectAsync(true);
        }
        Assert.That(Messages(_cliB, Julie).Count(m => m.Contains("Subject: submitted at node A", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(Messages(_cliA, Julie), Is.Empty, "nothing for node B's mailbox on node A");

        // A hand-over for a mailbox B does not hold either is not handed on (it could loop between nodes).
        var handedOn = await LmtpAsync(_lmtpB, "Subject: handed to the wrong node\r\n\r\nhello\r\n", Anna);
        Assert.That(handedOn[0], Is.EqualTo("451 4.4.6 Mailbox homed on node node-a, not here; try again later"), _nodeB.Log);
        Assert.That(Messages(_cliA, Anna), Has.Length.EqualTo(1), "no second copy reached node A");

        // Node B's port for the other nodes answers only the addresses MailAuth:Nodes lists.
        using var stranger = new TcpClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await stranger.ConnectAsync(IPAddress.Loopback, _lmtpB);
        var buffer = new byte[64];
        Assert.That(await stranger.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)), Is.Zero, "closed unanswered");
        Assert.That(await _nodeB.LoggedAsync("lmtp for the other nodes: connection from 127.0.0.2:"), Is.True, _nodeB.Log);
    }

    [Test]
    [Order(2)]
    public async Task WithNodeBStoppedAAnswersATemporaryFailureForItsMailboxAndStoresNothing()
    {
        await _nodeB.DisposeAsync();
        _nodeBStopped = true;

        var replies = await LmtpAsync(_lmtpA, "Subject: while B is down\r\n\r\nhello\r\n", Julie, Anna);

        Assert.That(replies[0], Is.EqualTo("451 4.4.1 Home node node-b not reachable, try again later"));
        Assert.That(replies[1], Does.Match($"^250 2\\.0\\.0 <{Anna}> \\S+ Saved$"), "a recipient homed on A is not held up");

        using (var smtp = await MailKitClients.SmtpAsync(_nodeA, SecureSocketOptions.StartTls))
        {
            await smtp.AuthenticateAsync(MailKitClients.Sasl("PLAIN", Anna, Password));
            var refused = Assert.ThrowsAsync<SmtpCommandException>(
                () => smtp.SendAsync(MailKitClients.Message(Anna, Julie, "submitted while B is down", DateTimeOffset.UtcNow)));
            Assert.That((int)refused!.StatusCode, Is.EqualTo(451));
            Assert.That(refused.Message, Does.Contain("Home node node-b not reachable"));
        }
        Assert.That(Messages(_cliA, Julie), Is.Empty, "nothing for node B's mailbox on node A");
        Assert.That(Messages(_cliA, Anna), Has.Length.EqualTo(2));
    }

    /// <summary>One LMTP transaction as Postfix sends it; the replies after DATA, one per recipient.</summary>
    private static async Task<List<string>> LmtpAsync(int port, string message, params string[] recipients)
    {
        await using var lmtp = await LineConnection.OpenAsync(port);
        await lmtp.SendAsync("LHLO mx.example\r\nMAIL FROM:<sender@example.org>\r\n" + string.Concat(recipients.Select(r => $"RCPT TO:<{r}>\r\n")) + "DATA\r\n");
        while (await lmtp.ReadLineAsync() is { } line && !line.StartsWith("354 ", StringComparison.Ordinal))
        {
            Assert.That(line, Does.StartWith("2"), "LMTP before DATA");
        }
        await lmtp.SendAsync(message + ".\r\n");
        var replies = new List<string>();
        foreach (var _ in recipients)
        {
            replies.Add(await lmtp.ReadLineAsync(TimeSpan.FromSeconds(20)) ?? "(closed)");
        }
        return replies;
    }

    /// <summary>The INBOX messages of <paramref name="address"/> in that node's data directory (none when it has no Maildir there).</summary>
    private static string[] Messages(MailAuthProcess node, string address)
    {
        var at = address.IndexOf('@', StringComparison.Ordinal);
        var inbox = Path.Combine(node.DataDirectory, "mail", address[(at + 1)..], address[..at]);
        return !Directory.Exists(inbox)
            ? []
            : [.. new[] { "new", "cur" }.SelectMany(sub => Directory.EnumerateFiles(Path.Combine(inbox, sub))).Select(File.ReadAllText)];
    }
}
