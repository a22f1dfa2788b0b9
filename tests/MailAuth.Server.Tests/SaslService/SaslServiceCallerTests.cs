using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using static MailAuth.Server.Tests.SaslService.SaslServiceServer;

namespace MailAuth.Server.Tests.SaslService;

/// <summary>
/// Who may ask the SASL service, on the real server: root and (by default) postfix, not any local
/// user, on the TCP port and on the socket; and a rip in <c>TrustedNetworks</c> exempts nothing
/// unless <c>MailAuth:SaslService:TrustedNetworksApply</c> is on. Two servers: the defaults, and one
/// that allows nobody and applies TrustedNetworks. Both trust 192.0.2.0/24 and throttle without delay.
/// </summary>
[TestFixture]
[Category("External")]
public sealed class SaslServiceCallerTests
{
    private const string TrustedNetwork = "192.0.2.0/24";

    /// <summary>
    /// A Dovecot auth client (argv: "tcp" PORT or "unix" PATH, then an AUTH line or "-", then "close"
    /// to close as soon as the line is sent): prints "connected", then every line the server sends
    /// until it closes the connection or answers the AUTH.
    /// </summary>
    private const string Client = """
        import socket, sys
        kind, where, auth, mode = sys.argv[1:]
        if kind == "unix":
            client = socket.socket(socket.AF_UNIX)
            client.connect(where)
        else:
            client = socket.create_connection(("127.0.0.1", int(where)))
        print("connected", flush=True)
        if auth != "-":
            client.sendall(("VERSION\t1\t2\nCPID\t1\n" + auth + "\n").encode())
            if mode == "close":
                client.close()
                sys.exit(0)
        client.settimeout(20)
        data = b""
        try:
            while not any(line.startswith((b"OK\t", b"FAIL\t")) for line in data.split(b"\n")):
                chunk = client.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        for line in data.decode().split("\n"):
            if line:
                print(line)
        """;

    private string _run = null!;
    private string _socket = null!;
    private RunningServer _defaults = null!;
    private int _defaultsPort;
    private RunningServer _configured = null!;
    private int _configuredPort;

    [OneTimeSetUp]
    public async Task StartServers()
    {
        // Outside the data directory, in a directory nobody may enter: the socket's own mode (0660) decides.
        _run = OtherUser.CreateTraversableDirectory();
        _socket = Path.Combine(_run, "auth.sock");
        var common = new Dictionary<string, string>
        {
            ["MailAuth__Authentication__TrustedNetworks__0"] = TrustedNetwork,
            ["MailAuth__Authentication__Throttle__MaxDelaySeconds"] = "0",
        };
        var defaults = SaslServiceServer.StartAsync(new Dictionary<string, string>(common)
        {
            ["MailAuth__SaslService__SocketPath"] = _socket,
        });
        var configured = SaslServiceServer.StartAsync(new Dictionary<string, string>(common)
        {
            ["MailAuth__SaslService__AllowedUsers__0"] = OtherUser.Nobody,
            ["MailAuth__SaslService__TrustedNetworksApply"] = "true",
        });
        (_defaults, _defaultsPort) = await defaults;
        (_configured, _configuredPort) = await configured;
    }

    [OneTimeTearDown]
    public async Task StopServers()
    {
        await _defaults.DisposeAsync();
        await _configured.DisposeAsync();
        Directory.Delete(_run, recursive: true);
    }

    private static string Auth(int id, string rip, string password) =>
        $"AUTH\t{id}\tPLAIN\tservice=smtp\tsecured\tlip=127.0.0.1\trip={rip}\tresp={PlainResponse(Address, password)}";

    private static async Task<string[]> AsNobodyAsync(string group, string kind, string where, string auth = "-", string mode = "wait")
    {
        var result = await OtherUser.PythonAsync(OtherUser.Nobody, group, Client, kind, where, auth, mode);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static int Count(RunningServer server, string pattern) => Regex.Matches(server.Log, pattern).Count;

    /// <summary>Waits until the log has <paramref name="expected"/> lines matching <paramref name="pattern"/>; the count then.</summary>
    private static async Task<int> CountWhenAsync(RunningServer server, string pattern, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Count(server, pattern) < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        return Count(server, pattern);
    }

    [Test]
    public async Task RootIsAnsweredOnTheTcpPortAndTheSocket()
    {
        await using var tcp = (await SaslServiceServer.ConnectAsync(_defaultsPort)).Connection;
        await tcp.SendAsync(Auth(1, "198.51.100.1", Password) + "\n");
        Assert.That(await tcp.ReadLineAsync(), Is.EqualTo($"OK\t1\tuser={Address}"));

        await using var unix = await LineConnection.OpenUnixAsync(_socket);
        var handshake = new List<string>();
        while (handshake.LastOrDefault() != "DONE" && await unix.ReadLineAsync() is { } line)
        {
            handshake.Add(line);
        }
        Assert.That(handshake, Does.Contain("DONE"));
        await unix.SendAsync("VERSION\t1\t2\nCPID\t1\n" + Auth(2, "198.51.100.1", Password) + "\n");
        Assert.That(await unix.ReadLineAsync(), Is.EqualTo($"OK\t2\tuser={Address}"));
    }

    [Test]
    public async Task NobodyIsClosedOnWithoutAWordOnTheTcpPort()
    {
        var lines = await AsNobodyAsync("nogroup", "tcp", _defaultsPort.ToString(CultureInfo.InvariantCulture));

        Assert.That(lines, Is.EqualTo(new[] { "connected" }));
        Assert.That(await LogShowsAsync(_defaults,
            $"sasl-service connection on inet:127.0.0.1:{_defaultsPort} refused: uid 65534 (nobody) is not allowed to connect (MailAuth:SaslService:AllowedUsers)"),
            Is.True, _defaults.Log);
    }

    [Test]
    public async Task NobodyIsClosedOnWithoutAWordOnTheSocketEvenWhenItsModeLetsItIn()
    {
        // Group root: the socket (root:root, 0660) lets it connect, as a user put in the server's group.
        var lines = await AsNobodyAsync("root", "unix", _socket);

        Assert.That(lines, Is.EqualTo(new[] { "connected" }));
        Assert.That(await LogMatchesAsync(_defaults, new Regex(
            $@"sasl-service connection on unix:{Regex.Escape(_socket)} refused: uid 65534 \(nobody\) gid 0 pid \d+ is not allowed to connect \(MailAuth:SaslService:AllowedUsers\)")),
            Is.True, _defaults.Log);
    }

    [Test]
    public async Task NobodyClosingRightAfterItsRequestIsNotTakenForRoot()
    {
        // A socket closed by its process shows as uid 0 in the kernel's tables: the request must still go unheard.
        await AsNobodyAsync("nogroup", "tcp", _defaultsPort.ToString(CultureInfo.InvariantCulture), Auth(1, "198.51.100.77", Password), "close");

        Assert.That(await LogMatchesAsync(_defaults, new Regex(
            $@"sasl-service connection on inet:127\.0\.0\.1:{_defaultsPort} refused: (uid 65534 \(nobody\) is not allowed|the kernel does not say)")),
            Is.True, _defaults.Log);
        // The refusal is logged before a session could start: had it run, its auth line would be here by now.
        Assert.That(_defaults.Log, Does.Not.Contain("remote=198.51.100.77"));
    }

    [Test]
    public async Task AConfiguredUserIsAnswered()
    {
        var lines = await AsNobodyAsync("nogroup", "tcp", _configuredPort.ToString(CultureInfo.InvariantCulture), Auth(1, "198.51.100.2", Password));

        Assert.That(lines.Last(), Is.EqualTo($"OK\t1\tuser={Address}"));
    }

    /// <summary>60 different wrong passwords, then the right one, all reported from <paramref name="rip"/>.</summary>
    private static async Task<string> GuessAsync(int port, string rip)
    {
        await using var connection = (await SaslServiceServer.ConnectAsync(port)).Connection;
        for (var i = 1; i <= 60; i++)
        {
            await connection.SendAsync(Auth(i, rip, $"guess-{i}") + "\n");
            Assert.That(await connection.ReadLineAsync(), Is.EqualTo($"FAIL\t{i}\treason=Authentication failed"));
        }
        await connection.SendAsync(Auth(61, rip, Password) + "\n");
        return (await connection.ReadLineAsync())!;
    }

    [Test]
    public async Task ACallerReportingATrustedAddressIsThrottledAfterFiveGuesses()
    {
        var answer = await GuessAsync(_defaultsPort, "192.0.2.50");

        Assert.That(answer, Is.EqualTo("FAIL\t61\treason=Authentication failed"));
        // The last attempt is logged last: once its line is in, so are the others.
        Assert.That(await CountWhenAsync(_defaults, @"reason=throttled protocol=sasl-service .* remote=192\.0\.2\.50 ", 56), Is.EqualTo(56), _defaults.Log);
        Assert.That(Count(_defaults, @"reason=wrong-password protocol=sasl-service .* remote=192\.0\.2\.50 "), Is.EqualTo(5));
    }

    [Test]
    public async Task WithTrustedNetworksApplyOnATrustedAddressIsNeverThrottled()
    {
        var answer = await GuessAsync(_configuredPort, "192.0.2.50");

        Assert.That(answer, Is.EqualTo($"OK\t61\tuser={Address}"));
        Assert.That(await CountWhenAsync(_configured, @"auth result=ok reason=(verified|cached) protocol=sasl-service .* remote=192\.0\.2\.50 ", 1), Is.EqualTo(1), _configured.Log);
        Assert.That(Count(_configured, @"reason=wrong-password protocol=sasl-service .* remote=192\.0\.2\.50 "), Is.EqualTo(60));
        Assert.That(Count(_configured, @"reason=throttled protocol=sasl-service .* remote=192\.0\.2\.50 "), Is.Zero);
    }
}
