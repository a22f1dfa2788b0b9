using System.Globalization;
using System.Text.RegularExpressions;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.SaslService;
using static MailAuth.Server.Tests.AuthHttp.AuthHttpServer;

namespace MailAuth.Server.Tests.AuthHttp;

/// <summary>
/// Who may ask the auth_http endpoint, on the real server: root and (by default) nginx's user, not
/// any local user, on the TCP port (which also needs the shared secret) and on the socket; and a
/// Client-IP in <c>TrustedNetworks</c> exempts nothing unless <c>MailAuth:AuthHttp:TrustedNetworksApply</c>
/// is on. Two servers: the defaults, and one that allows nobody and applies TrustedNetworks. Both
/// trust 192.0.2.0/24 and throttle without delay.
/// </summary>
[TestFixture]
[Category("External")]
public sealed class AuthHttpCallerTests
{
    private const string Secret = "only-nginx-knows";
    private const string TrustedNetwork = "192.0.2.0/24";
    private const string RefusedAnswer = "Auth-Error-Code: 451 4.3.0; Auth-Status: Temporary server problem, try again later";

    private string _run = null!;
    private string _socket = null!;
    private RunningServer _defaults = null!;
    private int _defaultsPort;
    private RunningServer _configured = null!;
    private int _configuredPort;

    [OneTimeSetUp]
    public async Task StartServers()
    {
        _run = OtherUser.CreateTraversableDirectory();
        _socket = Path.Combine(_run, "auth-http.sock");
        var common = new Dictionary<string, string>
        {
            ["MailAuth__AuthHttp__SharedSecret"] = Secret,
            ["MailAuth__Authentication__TrustedNetworks__0"] = TrustedNetwork,
            ["MailAuth__Authentication__Throttle__MaxDelaySeconds"] = "0",
        };
        var defaults = AuthHttpServer.StartAsync(new Dictionary<string, string>(common)
        {
            ["MailAuth__AuthHttp__SocketPath"] = _socket,
        });
        var configured = AuthHttpServer.StartAsync(new Dictionary<string, string>(common)
        {
            ["MailAuth__AuthHttp__AllowedUsers__0"] = OtherUser.Nobody,
            ["MailAuth__AuthHttp__TrustedNetworksApply"] = "true",
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

    /// <summary>curl playing nginx, as <paramref name="user"/>: the request's answer, status line and headers.</summary>
    private static async Task<string> CurlAsync(string? user, string group, string target, string clientIp, string password = Password)
    {
        string[] args =
        [
            "-s", "-i", .. target.StartsWith('/') ? new[] { "--unix-socket", target, "http://localhost/auth" } : [$"http://{target}/auth"],
            "-H", "Auth-Method: plain", "-H", $"Auth-User: {Address}", "-H", $"Auth-Pass: {AllEscaped(password)}",
            "-H", "Auth-Protocol: imap", "-H", "Auth-Login-Attempt: 1", "-H", $"Client-IP: {clientIp}", "-H", "Auth-SSL: on",
            "-H", $"X-MailAuth-Secret: {Secret}",
        ];
        var result = user is null ? await ExternalClient.RunAsync("curl", args) : await OtherUser.RunAsync(user, group, "curl", args);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        return result.Stdout;
    }

    /// <summary>Every byte %-escaped, which nginx's unescaping takes as well: argv carries ASCII only.</summary>
    private static string AllEscaped(string text) => string.Concat(System.Text.Encoding.UTF8.GetBytes(text).Select(b => $"%{b:x2}"));

    private static Task<HttpAnswer> AskAsync(int port, string clientIp, string password) =>
        SendAsync(port, Request(new Dictionary<string, string?>
        {
            ["X-MailAuth-Secret"] = Secret,
            ["Client-IP"] = clientIp,
            ["Auth-Pass"] = NginxEscape(password),
        }));

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

    [TestCase("MailAuth__AuthHttp__Port", "9143",
        "error: invalid configuration: MailAuth:AuthHttp:SharedSecret is required when MailAuth:AuthHttp:Port is set (nginx sends it with auth_http_header; or use MailAuth:AuthHttp:SocketPath)")]
    [TestCase("MailAuth__AuthHttp__AllowedUsers__0", "no-such-nginx",
        "error: invalid configuration: MailAuth:AuthHttp:AllowedUsers: there is no user 'no-such-nginx' on this system (a user name or a numeric uid)")]
    public async Task ServeRefusesToStartWithOneLine(string key, string value, string error)
    {
        using var process = new MailAuthProcess();
        process.Environment["MailAuth__AuthHttp__SocketPath"] = "auth-http.sock";
        process.Environment[key] = value;

        using var serve = process.Start("serve");
        serve.StandardInput.Close();
        var stderr = serve.StandardError.ReadToEndAsync();
        try
        {
            await serve.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            serve.Kill(entireProcessTree: true);
            Assert.Fail($"serve started:\n{await serve.StandardOutput.ReadToEndAsync()}");
        }

        Assert.That(serve.ExitCode, Is.EqualTo(2));
        Assert.That(await stderr, Is.EqualTo(error + "\n"));
    }

    [Test]
    public async Task RootIsAnsweredOnTheTcpPortAndTheSocket()
    {
        var tcp = await AskAsync(_defaultsPort, "198.51.100.1", Password);
        var unix = await CurlAsync(null, "root", _socket, "198.51.100.1");

        Assert.That(tcp.AuthHeaders, Does.Contain("Auth-Status: OK"));
        Assert.That(unix, Does.StartWith("HTTP/1.1 200 ").And.Contain("Auth-Status: OK\r\n"));
    }

    [Test]
    public async Task NobodyIsRefusedOnTheSocketBeforeAnyHeaderIsRead()
    {
        // Group root: the socket (root:root, 0660) lets it connect, as a user put in the server's group.
        var answer = await CurlAsync(OtherUser.Nobody, "root", _socket, "198.51.100.77");

        Assert.That(answer, Does.StartWith("HTTP/1.1 403 ").And.Contain("Auth-Status: Temporary server problem, try again later\r\n"));
        Assert.That(await SaslServiceServer.LogMatchesAsync(_defaults, new Regex(
            $@"auth-http connection on unix:{Regex.Escape(_socket)} refused: uid 65534 \(nobody\) gid 0 pid \d+ is not allowed to connect \(MailAuth:AuthHttp:AllowedUsers\)")),
            Is.True, _defaults.Log);
        Assert.That(_defaults.Log, Does.Not.Contain("remote=198.51.100.77"));
    }

    [Test]
    public async Task NobodyIsRefusedOnTheTcpPortEvenWithTheSecret()
    {
        var answer = await CurlAsync(OtherUser.Nobody, "nogroup", $"127.0.0.1:{_defaultsPort}", "198.51.100.78");

        Assert.That(answer, Does.StartWith("HTTP/1.1 403 ").And.Contain("Auth-Error-Code: 451 4.3.0\r\n"));
        Assert.That(await SaslServiceServer.LogShowsAsync(_defaults,
            $"auth-http connection on 127.0.0.1:{_defaultsPort} refused: uid 65534 (nobody) is not allowed to connect (MailAuth:AuthHttp:AllowedUsers)"),
            Is.True, _defaults.Log);
    }

    [Test]
    public async Task AConfiguredUserIsAnswered()
    {
        var answer = await CurlAsync(OtherUser.Nobody, "nogroup", $"127.0.0.1:{_configuredPort}", "198.51.100.2");

        Assert.That(answer, Does.StartWith("HTTP/1.1 200 ").And.Contain("Auth-Status: OK\r\n"));
    }

    /// <summary>60 different wrong passwords, then the right one, all reported as from <paramref name="clientIp"/>.</summary>
    private static async Task<HttpAnswer> GuessAsync(int port, string clientIp)
    {
        for (var i = 1; i <= 60; i++)
        {
            Assert.That((await AskAsync(port, clientIp, $"guess-{i}")).AuthHeaders, Is.EqualTo("Auth-Status: Invalid login or password; Auth-Wait: 2"));
        }
        return await AskAsync(port, clientIp, Password);
    }

    [Test]
    public async Task ACallerReportingATrustedAddressIsThrottledAfterFiveGuesses()
    {
        var answer = await GuessAsync(_defaultsPort, "192.0.2.60");

        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Status: Invalid login or password; Auth-Wait: 2"));
        // The last attempt is logged last: once its line is in, so are the others.
        Assert.That(await CountWhenAsync(_defaults, @"reason=throttled protocol=auth-http-imap .* remote=192\.0\.2\.60 ", 56), Is.EqualTo(56), _defaults.Log);
        Assert.That(Count(_defaults, @"reason=wrong-password protocol=auth-http-imap .* remote=192\.0\.2\.60 "), Is.EqualTo(5));
    }

    [Test]
    public async Task WithTrustedNetworksApplyOnATrustedAddressIsNeverThrottled()
    {
        var answer = await GuessAsync(_configuredPort, "192.0.2.60");

        Assert.That(answer.AuthHeaders, Is.EqualTo($"Auth-Port: {_configured.ImapPort.ToString(CultureInfo.InvariantCulture)}; Auth-Server: 127.0.0.1; Auth-Status: OK"));
        Assert.That(await CountWhenAsync(_configured, @"auth result=ok reason=(verified|cached) protocol=auth-http-imap .* remote=192\.0\.2\.60 ", 1), Is.EqualTo(1), _configured.Log);
        Assert.That(Count(_configured, @"reason=wrong-password protocol=auth-http-imap .* remote=192\.0\.2\.60 "), Is.EqualTo(60));
        Assert.That(Count(_configured, @"reason=throttled protocol=auth-http-imap .* remote=192\.0\.2\.60 "), Is.Zero);
    }
}
