using System.Net.Sockets;
using System.Text;
using MailAuth.Server.Tests.Hostile;
using static MailAuth.Server.Tests.SaslService.SaslServiceServer;

namespace MailAuth.Server.Tests.SaslService;

/// <summary>
/// Raw Dovecot auth protocol transcripts against the real server: the handshake, every answer and
/// every refusal, over loopback TCP and once over the UNIX socket.
/// </summary>
[TestFixture]
public sealed class DovecotAuthTranscriptTests
{
    private const string Failed = "reason=Authentication failed";

    private RunningServer _server = null!;
    private int _port;

    [OneTimeSetUp]
    public async Task StartServer() => (_server, _port) = await SaslServiceServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private async Task<LineConnection> ConnectAsync() => (await SaslServiceServer.ConnectAsync(_port)).Connection;

    private static string Auth(int id, string mechanism, string rip, string? resp = null, bool secured = true) =>
        $"AUTH\t{id}\t{mechanism}\tservice=smtp\tnologin\tlip=127.0.0.1\trip={rip}" + (secured ? "\tsecured" : "") + (resp is null ? "" : "\tresp=" + resp) + "\n";

    [Test]
    public async Task HandshakeAnnouncesVersionMechanismsAndIdentifiers()
    {
        var (connection, handshake) = await SaslServiceServer.ConnectAsync(_port);
        await using var _ = connection;

        Assert.That(handshake, Has.Count.EqualTo(7));
        Assert.Multiple(() =>
        {
            Assert.That(handshake[0], Is.EqualTo("VERSION\t1\t2"));
            Assert.That(handshake[1], Is.EqualTo("MECH\tPLAIN\tplaintext"));
            Assert.That(handshake[2], Is.EqualTo("MECH\tLOGIN\tplaintext"));
            Assert.That(handshake[3], Is.EqualTo($"SPID\t{_server.ProcessId}"));
            Assert.That(handshake[4], Does.Match(@"^CUID\t[0-9]+$"));
            Assert.That(handshake[5], Does.Match(@"^COOKIE\t[0-9a-f]{32}$"));
            Assert.That(handshake[6], Is.EqualTo("DONE"));
        });
    }

    [Test]
    public async Task PlainWithTheRightPasswordIsOkAndNamesTheUser()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "PLAIN", "127.0.0.1", PlainResponse("Julie@Family.Example", Password)));

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));
    }

    [Test]
    public async Task PlainWithAWrongPasswordFailsWithoutNamingTheUser()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "PLAIN", "192.0.2.10", PlainResponse(Address, "wrong")));

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"FAIL\t1\t{Failed}"));
    }

    [Test]
    public async Task UnknownUserGetsTheSameAnswerAsAWrongPassword()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "PLAIN", "192.0.2.11", PlainResponse(Address, "wrong")));
        var wrongPassword = await connection.ReadLineAsync();
        await connection.SendAsync(Auth(2, "PLAIN", "192.0.2.11", PlainResponse("nobody@family.example", Password)));
        var unknownUser = await connection.ReadLineAsync();
        await connection.SendAsync(Auth(3, "PLAIN", "192.0.2.11", PlainResponse("nobody@elsewhere.example", Password)));
        var unknownDomain = await connection.ReadLineAsync();

        Assert.Multiple(() =>
        {
            Assert.That(wrongPassword, Is.EqualTo($"FAIL\t1\t{Failed}"));
            Assert.That(unknownUser, Is.EqualTo($"FAIL\t2\t{Failed}"));
            Assert.That(unknownDomain, Is.EqualTo($"FAIL\t3\t{Failed}"));
        });
    }

    [Test]
    public async Task LoginPromptsForUsernameAndPasswordWithContRoundTrips()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "LOGIN", "127.0.0.1"));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"CONT\t1\t{Base64("Username:")}"));
        await connection.SendAsync($"CONT\t1\t{Base64(Address)}\n");
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"CONT\t1\t{Base64("Password:")}"));
        await connection.SendAsync($"CONT\t1\t{Base64(Password)}\n");

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));
    }

    [Test]
    public async Task LoginWithTheUsernameAsInitialResponseAsksOnlyForThePassword()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "LOGIN", "192.0.2.12", Base64(Address)));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"CONT\t1\t{Base64("Password:")}"));
        await connection.SendAsync($"CONT\t1\t{Base64("wrong")}\n");

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"FAIL\t1\t{Failed}"));
    }

    [Test]
    public async Task PlainWithoutInitialResponseGetsAnEmptyChallenge()
    {
        // Postfix sends AUTH without resp= when the SMTP client said "AUTH PLAIN" alone.
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "PLAIN", "127.0.0.1"));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo("CONT\t1\t"));
        await connection.SendAsync($"CONT\t1\t{PlainResponse(Address, Password)}\n");

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));
    }

    [Test]
    public async Task RequestsInFlightAreAnsweredByTheirIds()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(10, "LOGIN", "127.0.0.1"));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"CONT\t10\t{Base64("Username:")}"));
        await connection.SendAsync(Auth(11, "PLAIN", "127.0.0.1", PlainResponse(Address, Password)));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t11\tuser={Address}"));
        await connection.SendAsync($"CONT\t10\t{Base64(Address)}\n");
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"CONT\t10\t{Base64("Password:")}"));
        await connection.SendAsync($"CONT\t10\t{Base64(Password)}\n");

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t10\tuser={Address}"));
    }

    [Test]
    public async Task PlaintextWithoutSecuredIsRefusedBeforeAnyCheck()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "PLAIN", "192.0.2.13", PlainResponse(Address, Password), secured: false));
        await connection.SendAsync(Auth(2, "LOGIN", "192.0.2.13", secured: false));

        Assert.That(await connection.ReadLineAsync(), Does.StartWith("FAIL\t1\treason=Plaintext authentication disallowed"));
        Assert.That(await connection.ReadLineAsync(), Does.StartWith("FAIL\t2\treason=Plaintext authentication disallowed"));
        Assert.That(_server.Log, Does.Not.Contain("remote=192.0.2.13"));
    }

    [Test]
    public async Task RipIsTheClientAddressAndAMissingOneIsNone()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "PLAIN", "203.0.113.44", PlainResponse(Address, Password)));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));
        await connection.SendAsync($"AUTH\t2\tPLAIN\tservice=smtp\tsecured\tresp={PlainResponse(Address, Password)}\n");
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t2\tuser={Address}"));

        Assert.That(await LogShowsAsync(_server, "protocol=sasl-service mechanism=PLAIN tls=yes remote=203.0.113.44 address=" + Address), Is.True);
        Assert.That(await LogShowsAsync(_server, "remote=255.255.255.255 address=" + Address), Is.True);
    }

    [TestCase("AUTH\t1\tCRAM-MD5\tservice=smtp\tsecured", "FAIL\t1\treason=unsupported mechanism")]
    [TestCase("AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp=not*base64", "FAIL\t1\treason=invalid base64 in resp")]
    [TestCase("AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp=AGE", "FAIL\t1\treason=invalid base64 in resp")]
    [TestCase("AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp", "FAIL\t1\treason=resp needs a value (resp=base64)")]
    [TestCase("AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp=", "FAIL\t1\treason=the PLAIN response must be authzid NUL authcid NUL password")]
    [TestCase("AUTH\t1\tPLAIN\tservice=smtp\tresp=AGEAYg==\tsecured", "FAIL\t1\treason=resp= must be the last parameter")]
    [TestCase("AUTH\t1\tPLAIN\tsecured\tresp=AGEAYg==", "FAIL\t1\treason=AUTH needs service=")]
    [TestCase("AUTH\t1", "FAIL\t1\treason=AUTH needs a mechanism")]
    [TestCase("CONT\t1\tdXNlcg==", "FAIL\t1\treason=no request in progress with this id")]
    public async Task MalformedRequestsFailTheirIdAndKeepTheConnection(string request, string answer)
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(request + "\n");
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo(answer));

        await connection.SendAsync(Auth(2, "PLAIN", "127.0.0.1", PlainResponse(Address, Password)));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t2\tuser={Address}"));
    }

    [TestCase("not*base64", "FAIL\t1\treason=invalid base64 in CONT")]
    [TestCase("*", "FAIL\t1\treason=cancelled by the client")]
    [TestCase("", "FAIL\t1\treason=the PLAIN response must be authzid NUL authcid NUL password")]
    public async Task BadContinuationsFailTheRequest(string continuation, string answer)
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(1, "PLAIN", "127.0.0.1"));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo("CONT\t1\t"));
        await connection.SendAsync($"CONT\t1\t{continuation}\n");
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo(answer));

        // The request is over: a further CONT for it is refused too.
        await connection.SendAsync($"CONT\t1\t{PlainResponse(Address, Password)}\n");
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo("FAIL\t1\treason=no request in progress with this id"));
    }

    [Test]
    public async Task AReusedIdFailsAndEndsTheRequestInProgress()
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(Auth(5, "LOGIN", "127.0.0.1"));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"CONT\t5\t{Base64("Username:")}"));
        await connection.SendAsync(Auth(5, "PLAIN", "127.0.0.1", PlainResponse(Address, Password)));
        Assert.That(await connection.ReadLineAsync(), Is.EqualTo("FAIL\t5\treason=request id already in use"));
        await connection.SendAsync($"CONT\t5\t{Base64(Address)}\n");

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo("FAIL\t5\treason=no request in progress with this id"));
    }

    [Test]
    public async Task AuthBeforeTheHandshakeIsRefused()
    {
        await using var connection = await LineConnection.OpenAsync(_port);
        while (await connection.ReadLineAsync() is { } line && line != "DONE")
        {
        }

        await connection.SendAsync(Auth(1, "PLAIN", "127.0.0.1", PlainResponse(Address, Password)));

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo("FAIL\t1\treason=handshake not finished (VERSION and CPID first)"));
    }

    [TestCase("VERSION\t2\t0\n")]
    [TestCase("HELLO\n")]
    [TestCase("CPID\t1\n")]
    public async Task AnUnusableHandshakeClosesTheConnection(string first)
    {
        await using var connection = await LineConnection.OpenAsync(_port);
        while (await connection.ReadLineAsync() is { } line && line != "DONE")
        {
        }

        await connection.SendAsync(first);

        Assert.That(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
    }

    [TestCase("AUTH\tx\tPLAIN\tservice=smtp\tsecured\n")]
    [TestCase("FOO\t1\n")]
    [TestCase("VERSION\t1\t2\n")]
    [TestCase("\n")]
    public async Task LinesWithoutAUsableIdCloseTheConnection(string line)
    {
        await using var connection = await ConnectAsync();

        await connection.SendAsync(line);

        Assert.That(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public async Task AnOversizeLineClosesTheConnectionAndTheServiceGoesOn()
    {
        await using (var connection = await ConnectAsync())
        {
            await connection.SendAsync("AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp=" + new string('A', 20 * 1024) + "\n");

            Assert.That(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
        }
        Assert.That(await LogShowsAsync(_server, "a line longer than MailAuth:SaslService:MaxLineLength"), Is.True);

        await using var next = await ConnectAsync();
        await next.SendAsync(Auth(1, "PLAIN", "127.0.0.1", PlainResponse(Address, Password)));
        Assert.That(await next.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));
    }

    [Test]
    public async Task AnEndlessLineIsCutWithoutBuffering()
    {
        await using var connection = await ConnectAsync();
        var chunk = Encoding.ASCII.GetBytes(new string('A', 64 * 1024));
        var closed = false;
        try
        {
            for (var i = 0; i < 64; i++) // 4 MiB without a newline
            {
                await connection.SendAsync(chunk);
            }
            await connection.SendAsync("\n");
        }
        catch (IOException)
        {
            closed = true;
        }

        Assert.That(closed || await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public async Task TheUnixSocketSpeaksTheSameProtocolWithMode0660()
    {
        var path = Path.Combine(_server.Cli.DataDirectory, SocketName);
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));

        await using var socket = await LineConnection.OpenUnixAsync(path);
        var lines = new List<string>();
        while (await socket.ReadLineAsync() is { } line && line != "DONE")
        {
            lines.Add(line);
        }
        await socket.SendAsync(
            "VERSION\t1\t2\nCPID\t1\n" + Auth(1, "PLAIN", "127.0.0.1", PlainResponse(Address, Password)) + Auth(2, "PLAIN", "192.0.2.14", PlainResponse(Address, "wrong")));

        Assert.That(lines[0], Is.EqualTo("VERSION\t1\t2"));
        Assert.That(await socket.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));
        Assert.That(await socket.ReadLineAsync(), Is.EqualTo($"FAIL\t2\t{Failed}"));
    }
}

/// <summary>With <c>AllowPlaintextWithoutTls</c>, a request without <c>secured</c> is checked.</summary>
[TestFixture]
public sealed class DovecotAuthPlaintextAllowedTests
{
    [Test]
    public async Task PlaintextWithoutSecuredIsCheckedWhenAllowed()
    {
        var (server, port) = await SaslServiceServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__SaslService__AllowPlaintextWithoutTls"] = "true",
        });
        await using var _ = server;
        var (connection, _) = await SaslServiceServer.ConnectAsync(port);
        await using var __ = connection;

        await connection.SendAsync($"AUTH\t1\tPLAIN\tservice=smtp\trip=127.0.0.1\tresp={PlainResponse(Address, Password)}\n");

        Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));
        Assert.That(await LogShowsAsync(server, "mechanism=PLAIN tls=no remote=127.0.0.1"), Is.True);
    }
}
