using MailAuth.Server.Hosting;
using MailAuth.Server.Tests.Hostile;
using static MailAuth.Server.Tests.SaslService.SaslServiceServer;

namespace MailAuth.Server.Tests.SaslService;

/// <summary>The SASL service's limits on the real server, set low: handshake time, connections, requests in flight.</summary>
[TestFixture]
public sealed class DovecotAuthLimitTests
{
    private RunningServer _server = null!;
    private int _port;

    [OneTimeSetUp]
    public async Task StartServer() => (_server, _port) = await SaslServiceServer.StartAsync(new Dictionary<string, string>
    {
        ["MailAuth__SaslService__HandshakeTimeoutSeconds"] = "1",
        ["MailAuth__SaslService__MaxConnections"] = "3",
        ["MailAuth__SaslService__MaxPendingRequests"] = "2",
    });

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task AClientThatNeverIdentifiesItselfIsDropped()
    {
        await using var connection = await LineConnection.OpenAsync(_port);

        Assert.That(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(await LogShowsAsync(_server, "closed: no complete handshake in time"), Is.True);
    }

    [Test]
    public async Task AnIdentifiedClientMayStayIdle()
    {
        var (connection, _) = await SaslServiceServer.ConnectAsync(_port);
        await using var _ = connection;
        await Task.Delay(TimeSpan.FromSeconds(2));

        await connection.SendAsync($"AUTH\t1\tPLAIN\tservice=smtp\trip=127.0.0.1\tsecured\tresp={PlainResponse(Address, Password)}\n");

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));
    }

    [Test]
    public async Task RequestsWaitingForContAreBounded()
    {
        var (connection, _) = await SaslServiceServer.ConnectAsync(_port);
        await using var _ = connection;

        await connection.SendAsync("AUTH\t1\tLOGIN\tservice=smtp\tsecured\nAUTH\t2\tLOGIN\tservice=smtp\tsecured\nAUTH\t3\tLOGIN\tservice=smtp\tsecured\n");

        Assert.That(await connection.ReadLineAsync(), Does.StartWith("CONT\t1\t"));
        Assert.That(await connection.ReadLineAsync(), Does.StartWith("CONT\t2\t"));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo("FAIL\t3\treason=too many requests in progress on this connection"));
    }

    [Test]
    public async Task ConnectionsBeyondTheLimitAreClosedAtOnce()
    {
        var open = new List<LineConnection>();
        try
        {
            // Connections of earlier tests are released as the server notices they closed: retry
            // until three are served.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (open.Count < 3 && DateTime.UtcNow < deadline)
            {
                var (connection, handshake) = await SaslServiceServer.ConnectAsync(_port);
                if (handshake.Count == 7)
                {
                    open.Add(connection);
                }
                else
                {
                    await connection.DisposeAsync();
                    await Task.Delay(100);
                }
            }
            Assert.That(open, Has.Count.EqualTo(3));
            await using var extra = await LineConnection.OpenAsync(_port);

            Assert.That(await extra.ReadLineAsync(), Is.Null);
            Assert.That(await LogShowsAsync(_server, "already 3 connections"), Is.True);
        }
        finally
        {
            foreach (var connection in open)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [TestCase("TcpPort", "70000", "MailAuth:SaslService:TcpPort must be between 0 (disabled) and 65535, not 70000")]
    [TestCase("MaxLineLength", "100", "MailAuth:SaslService:MaxLineLength must be at least 1024, not 100")]
    [TestCase("MaxConnections", "0", "MailAuth:SaslService:MaxConnections must be at least 1, not 0")]
    [TestCase("MaxPendingRequests", "0", "MailAuth:SaslService:MaxPendingRequests must be at least 1, not 0")]
    [TestCase("HandshakeTimeoutSeconds", "0", "MailAuth:SaslService:HandshakeTimeoutSeconds must be at least 1, not 0")]
    public void InvalidSettingsAreNamed(string key, string value, string error)
    {
        var options = new MailAuthOptions();
        typeof(SaslServiceOptions).GetProperty(key)!.SetValue(options.SaslService, int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));

        Assert.That(options.Validate(), Does.Contain(error));
    }

    [Test]
    public void DefaultsAreValidAndOff()
    {
        var options = new MailAuthOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.Validate(), Is.Empty);
            Assert.That(options.SaslService.SocketPath, Is.Empty);
            Assert.That(options.SaslService.TcpPort, Is.Zero);
            Assert.That(options.SaslService.AllowPlaintextWithoutTls, Is.False);
        });
    }
}
