using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailAuth.Core.Tests.Storage;
using MailAuth.Server.Tests.AuthHttp;
using MailAuth.Server.Tests.Imap;
using Npgsql;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Nodes;

/// <summary>
/// One PostgreSQL, two <c>mailauth serve</c> nodes (node-a, node-b) with their own ports and data
/// directories, and nginx in front asking node A's auth_http: a mailbox homed on node B is read
/// through nginx on B (its message is only in B's data directory); a password changed with node A's
/// CLI ends B's session and B refuses the old password within a second; stopping node A leaves B's
/// sessions and logins alone.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
[NonParallelizable] // it stops node A and runs nginx as www-data
public sealed class HomeNodesThroughNginxTests
{
    private const string Secret = "nginx-and-the-nodes-share-this";
    private const string Julie = "julie@family.example";
    private const string Leo = "leo@family.example";
    private const string Listening = "mailbox changes: listening on PostgreSQL channel mailauth_mailbox_changes";

    private string _store = null!;
    private MailAuthProcess _cliA = null!;
    private MailAuthProcess _cliB = null!;
    private RunningServer _nodeA = null!;
    private RunningServer _nodeB = null!;
    private bool _nodeAStopped;
    private NginxMailProxy _nginx = null!;
    private string _password = "Pass-word-0";
    private int _imapB; // RunningServer.ImapPort is not the port given in the settings

    [OneTimeSetUp]
    public async Task StartTwoNodesBehindNginx()
    {
        _store = PostgresTestServer.CreateSchema();
        _cliA = MailAuthProcess.OnPostgres(_store);
        _cliB = MailAuthProcess.OnPostgres(_store);
        var imapA = RunningServer.FreePort();
        _imapB = RunningServer.FreePort();
        var imapB = _imapB;
        var authHttp = RunningServer.FreePort();
        var nodes = new Dictionary<string, string>
        {
            ["MailAuth__Nodes__node-a__Address"] = $"127.0.0.1 imap={imapA}",
            ["MailAuth__Nodes__node-b__Address"] = $"127.0.0.1 imap={imapB}",
        };
        _nodeA = await RunningServer.StartAsync(new Dictionary<string, string>(nodes)
        {
            ["MailAuth__NodeName"] = "node-a",
            ["MailAuth__Imap__Port"] = imapA.ToString(CultureInfo.InvariantCulture),
            ["MailAuth__AuthHttp__Port"] = authHttp.ToString(CultureInfo.InvariantCulture),
            ["MailAuth__AuthHttp__SharedSecret"] = Secret,
            ["MailAuth__AuthHttp__RetryWaitSeconds"] = "1",
        }, _cliA);
        _nodeB = await RunningServer.StartAsync(new Dictionary<string, string>(nodes)
        {
            ["MailAuth__NodeName"] = "node-b",
            ["MailAuth__Imap__Port"] = imapB.ToString(CultureInfo.InvariantCulture),
        }, _cliB);
        Expect(await _cliA.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Expect(await _cliA.RunWithInputAsync(_password + "\n", "mailbox", "add", Julie, "--node", "node-b"), 0, $"mailbox {Julie} added");
        await ExternalClient.DeliverAsync(_nodeB, Julie, "Subject: only on node B\r\n\r\nhello\r\n"u8.ToArray());
        Assert.That(await _nodeA.LoggedAsync("listening auth-http on 127.0.0.1:"), Is.True, _nodeA.Log);
        Assert.That(await _nodeB.LoggedAsync(Listening), Is.True, _nodeB.Log);
        _nginx = await NginxMailProxy.StartAsync(
            Path.Combine(_cliA.WorkingDirectory, "nginx"), authHttp, Secret, Path.Combine(_cliA.DataDirectory, "tls"));
    }

    [OneTimeTearDown]
    public async Task StopAll()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        await _nodeB.DisposeAsync();
        if (!_nodeAStopped)
        {
            await _nodeA.DisposeAsync();
        }
        _cliB.Dispose();
        _cliA.Dispose();
    }

    [Test]
    [Order(1)]
    public async Task ALoginThroughNginxLandsOnTheMailboxsHomeNodeAndAnUnlistedHomeIsATemporaryFailure()
    {
        await using (var session = await LineSession.OpenAsync(_nginx.TlsPort, _cliA))
        {
            Assert.That((await session.CommandAsync("l", $"LOGIN {Julie} {_password}"))[^1], Does.StartWith("l OK"), _nginx.ErrorLog);
            Assert.That(await session.CommandAsync("s", "SELECT INBOX"), Does.Contain("* 1 EXISTS"));
            Assert.That(string.Join("\n", await session.CommandAsync("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")), Does.Contain("Subject: only on node B"));
        }
        // Node A checked the password for nginx; node B served the session nginx opened with it.
        Assert.That(await _nodeA.LoggedAsync($"auth result=ok reason=verified protocol=auth-http-imap mechanism=PLAIN tls=yes remote=127.0.0.1 address={Julie}"), Is.True, _nodeA.Log);
        Assert.That(await _nodeB.LoggedAsync($"protocol=imap mechanism=LOGIN-command tls=no remote=127.0.0.1 address={Julie}"), Is.True, _nodeB.Log);
        Assert.That(_nodeA.Log, Does.Not.Contain($"protocol=imap mechanism=LOGIN-command tls=no remote=127.0.0.1 address={Julie}"));

        // A home node that node A's settings do not list: the password is right, the answer temporary.
        _cliA.Environment["MailAuth__Nodes__node-c__Address"] = "192.0.2.13";
        Expect(await _cliA.RunWithInputAsync("Pass-word-9\n", "mailbox", "add", Leo, "--node", "node-c"), 0, $"mailbox {Leo} added");
        _cliA.Environment.Remove("MailAuth__Nodes__node-c__Address");
        await using (var session = await LineSession.OpenAsync(_nginx.TlsPort, _cliA))
        {
            Assert.That((await session.CommandAsync("l", $"LOGIN {Leo} Pass-word-9"))[^1], Is.EqualTo("l NO Temporary server problem, try again later"), _nginx.ErrorLog);
        }
        Assert.That(await _nodeA.LoggedAsync($"auth-http: {Leo} is homed on node node-c, which MailAuth:Nodes does not list; answered a temporary failure"), Is.True, _nodeA.Log);
        Assert.That(await _nodeA.LoggedAsync($"auth result=ok reason=verified protocol=auth-http-imap mechanism=PLAIN tls=yes remote=127.0.0.1 address={Leo}"), Is.True, _nodeA.Log);
    }

    [Test]
    [Order(2)]
    public async Task APasswordChangedWithNodeAsCliEndsTheSessionOnNodeBAndBRefusesTheOldPasswordWithinASecond()
    {
        await using var session = await LineSession.OpenAsync(_nginx.TlsPort, _cliA);
        Assert.That((await session.CommandAsync("l", $"LOGIN {Julie} {_password}"))[^1], Does.StartWith("l OK"), _nginx.ErrorLog);
        var bye = Task.Run(async () =>
        {
            while (await session.ReadLineAsync() is { } line)
            {
                if (line == "* BYE Your credentials changed, log in again")
                {
                    return DateTimeOffset.UtcNow;
                }
            }
            throw new AssertionException("the session through nginx closed without node B's BYE");
        });
        await using var direct = await LineSession.OpenPlainAsync(_imapB);
        var old = _password;
        _password = "Pass-word-1";
        Expect(await _cliA.RunWithInputAsync(_password + "\n", "mailbox", "passwd", Julie), 0, $"password of {Julie} changed");
        var oldRefused = await direct.CommandAsync("o", $"LOGIN {Julie} {old}");
        var refusedAt = DateTimeOffset.UtcNow;
        var changedAt = await LatestChangeAtAsync();
        var endedAt = await bye.WaitAsync(TimeSpan.FromSeconds(5));

        TestContext.Out.WriteLine($"node B ended the session through nginx {(endedAt - changedAt).TotalMilliseconds:F0} ms and refused the old password {(refusedAt - changedAt).TotalMilliseconds:F0} ms after node A's change");
        Assert.That(oldRefused[^1], Is.EqualTo("o NO [AUTHENTICATIONFAILED] Authentication failed"));
        Assert.That((endedAt - changedAt).TotalMilliseconds, Is.LessThan(1000));
        Assert.That((refusedAt - changedAt).TotalMilliseconds, Is.LessThan(1000));
        Assert.That((await direct.CommandAsync("n", $"LOGIN {Julie} {_password}"))[^1], Does.StartWith("n OK"));
    }

    [Test]
    [Order(3)]
    public async Task StoppingNodeADoesNotDisturbSessionsAndLoginsOnNodeB()
    {
        await using var throughNginx = await LineSession.OpenAsync(_nginx.TlsPort, _cliA);
        Assert.That((await throughNginx.CommandAsync("l", $"LOGIN {Julie} {_password}"))[^1], Does.StartWith("l OK"), _nginx.ErrorLog);
        Assert.That(await throughNginx.CommandAsync("s", "SELECT INBOX"), Does.Contain("* 1 EXISTS"));

        await _nodeA.DisposeAsync();
        _nodeAStopped = true;

        Assert.That(string.Join("\n", await throughNginx.CommandAsync("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")), Does.Contain("Subject: only on node B"));
        Assert.That((await throughNginx.CommandAsync("n", "NOOP"))[^1], Does.StartWith("n OK"));
        await using var direct = await LineSession.OpenPlainAsync(_imapB);
        Assert.That((await direct.CommandAsync("l", $"LOGIN {Julie} {_password}"))[^1], Does.StartWith("l OK"));
        Assert.That(await direct.CommandAsync("s", "SELECT INBOX"), Does.Contain("* 1 EXISTS"));
        Expect(await _cliB.RunWithInputAsync(_password + "\n", "auth", "test", Julie), 0, $"ok: {Julie} accepts this password");
    }

    /// <summary>When the newest mailbox change was recorded (the <c>at</c> of its row, just before its commit).</summary>
    private async Task<DateTimeOffset> LatestChangeAtAsync()
    {
        await using var connection = new NpgsqlConnection(_store);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT at FROM mailbox_changes ORDER BY id DESC LIMIT 1", connection);
        return DateTimeOffset.Parse((string)(await command.ExecuteScalarAsync())!, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// An IMAP session read line by line: through nginx's TLS port, trusting exactly node A's
    /// certificate (nginx serves it), or plain to a node's own IMAP port on loopback.
    /// </summary>
    private sealed class LineSession(LineConnection connection) : IAsyncDisposable
    {
        public static async Task<LineSession> OpenPlainAsync(int port)
        {
            var session = new LineSession(await LineConnection.OpenAsync(port));
            Assert.That(await session.ReadLineAsync(), Does.StartWith("* OK"), "the node's greeting");
            return session;
        }

        public static async Task<LineSession> OpenAsync(int port, MailAuthProcess certificateOwner)
        {
            var connection = await LineConnection.OpenAsync(port);
            await connection.StartTlsAsync(LineConnection.Pinned(Path.Combine(certificateOwner.DataDirectory, "tls", "certificate.pem")));
            var session = new LineSession(connection);
            Assert.That(await session.ReadLineAsync(), Does.StartWith("* OK"), "the greeting nginx sends");
            return session;
        }

        public Task<string?> ReadLineAsync() => connection.ReadLineAsync(TimeSpan.FromSeconds(20));

        /// <summary>Sends "tag command" and returns every line up to and including the tagged one.</summary>
        public async Task<List<string>> CommandAsync(string tag, string command)
        {
            await connection.SendAsync($"{tag} {command}\r\n");
            var lines = new List<string>();
            while (await ReadLineAsync() is { } line)
            {
                lines.Add(line);
                if (line.StartsWith(tag + " ", StringComparison.Ordinal))
                {
                    return lines;
                }
            }
            throw new AssertionException($"closed before the answer to {tag}: {string.Join("\n", lines)}");
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
