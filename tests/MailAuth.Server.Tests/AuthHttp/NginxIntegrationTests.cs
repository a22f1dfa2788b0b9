using System.Globalization;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.SaslService;
using static MailAuth.Server.Tests.AuthHttp.AuthHttpServer;

namespace MailAuth.Server.Tests.AuthHttp;

/// <summary>
/// Debian's real nginx (<see cref="NginxMailProxy"/>) in front of MailAuth:
/// mail clients log in to nginx over IMAP, nginx asks MailAuth's auth_http endpoint, and proxies
/// the session to the IMAP backend the answer names. A private instance: its own configuration,
/// error log, pid file and loopback ports.
/// </summary>
[TestFixture]
[Category("External")]
[NonParallelizable]
public sealed class NginxIntegrationTests
{
    private const string Secret = "nginx-and-mailauth-share-this";
    private const string ElsewhereAddress = "paul@elsewhere.example";

    /// <summary>Python's imaplib: LOGIN up to N times, then (when logged in) the subject of message 1; prints one line per step.</summary>
    private const string ImapClient = """
        import imaplib, ssl, sys
        port, cafile, tls, user, password, tries = sys.argv[1:]
        if tls == "tls":
            client = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ssl.create_default_context(cafile=cafile), timeout=20)
        else:
            client = imaplib.IMAP4("127.0.0.1", int(port), timeout=20)
        client._encoding = "utf-8"  # imaplib sends ASCII only unless told; nginx passes the bytes on
        for attempt in range(int(tries)):
            try:
                print("login", client.login(user, password)[0])
                break
            except imaplib.IMAP4.abort as e:
                print("closed")
                sys.exit(0)
            except imaplib.IMAP4.error as e:
                print("refused", e)
        else:
            sys.exit(0)
        print("select", client.select("INBOX")[1][0].decode())
        typ, data = client.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        print(data[0][1].decode().strip())
        client.logout()
        """;

    private RunningServer _server = null!;
    private NginxMailProxy _nginx = null!;
    private int _deadBackendPort;

    [OneTimeSetUp]
    public async Task StartNginx()
    {
        _deadBackendPort = RunningServer.FreePort(); // nothing listens there
        int authPort;
        (_server, authPort) = await AuthHttpServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__AuthHttp__SharedSecret"] = Secret,
            ["MailAuth__AuthHttp__RetryWaitSeconds"] = "1",
            ["MailAuth__AuthHttp__Backends__elsewhere.example__Address"] = "127.0.0.1",
            ["MailAuth__AuthHttp__Backends__elsewhere.example__ImapPort"] = _deadBackendPort.ToString(CultureInfo.InvariantCulture),
        });
        Assert.That((await _server.Cli.RunAsync("domain", "add", "elsewhere.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", ElsewhereAddress)).ExitCode, Is.Zero);
        await ExternalClient.DeliverAsync(_server, Address, "Subject: through nginx\r\n\r\nhello\r\n"u8.ToArray());

        var work = Path.Combine(_server.Cli.WorkingDirectory, "nginx");
        Directory.CreateDirectory(work);
        await File.WriteAllTextAsync(Path.Combine(work, "client.py"), ImapClient);
        _nginx = await NginxMailProxy.StartAsync(work, authPort, Secret, Path.Combine(_server.Cli.DataDirectory, "tls"));
    }

    [OneTimeTearDown]
    public async Task StopNginx()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        await _server.DisposeAsync();
    }

    private string ErrorLog() => _nginx.ErrorLog;

    private async Task<string[]> LogInAsync(string tls, string user, string password, int tries = 1)
    {
        var result = await ExternalClient.RunAsync("python3", Path.Combine(_nginx.Directory, "client.py"),
            (tls == "tls" ? _nginx.TlsPort : _nginx.PlainPort).ToString(CultureInfo.InvariantCulture),
            Path.Combine(_server.Cli.DataDirectory, "tls", "certificate.pem"), tls, user, password, tries.ToString(CultureInfo.InvariantCulture));
        Assert.That(result.ExitCode, Is.Zero, $"{result}\n{ErrorLog()}");
        return result.Stdout.Trim().Split('\n');
    }

    [Test]
    public async Task TheRightPasswordReachesTheMailboxThroughNginx()
    {
        var lines = await LogInAsync("tls", Address, Password);

        Assert.That(lines, Is.EqualTo(new[] { "login OK", "select 1", "Subject: through nginx" }), ErrorLog());
        // nginx asked with the client's address and TLS; then it logged in to the backend itself (plain, on loopback).
        Assert.That(await SaslServiceServer.LogShowsAsync(_server,
            $"auth result=ok reason=verified protocol=auth-http-imap mechanism=PLAIN tls=yes remote=127.0.0.1 address={Address}"), Is.True, _server.Log);
        Assert.That(await SaslServiceServer.LogShowsAsync(_server,
            $"auth result=ok reason=cached protocol=imap mechanism=LOGIN-command tls=no remote=127.0.0.1 address={Address}"), Is.True, _server.Log);
    }

    [Test]
    public async Task AWrongPasswordIsRefusedAndTheThirdFailureClosesTheConnection()
    {
        var lines = await LogInAsync("tls", Address, "wrong password", tries: 4);

        Assert.That(lines, Is.EqualTo(new[]
        {
            "refused b'Invalid login or password'",
            "refused b'Invalid login or password'",
            "refused b'Invalid login or password'",
            "closed",
        }), ErrorLog());
    }

    [Test]
    public async Task AnUnknownUserGetsTheSameAnswer()
    {
        var lines = await LogInAsync("tls", "nobody@family.example", Password);

        Assert.That(lines, Is.EqualTo(new[] { "refused b'Invalid login or password'" }), ErrorLog());
    }

    [Test]
    public async Task WithoutTlsThePasswordIsRefused()
    {
        var lines = await LogInAsync("plain", Address, Password);

        Assert.That(lines, Is.EqualTo(new[] { "refused b'Plaintext authentication disallowed on non-secure (SSL/TLS) connections'" }), ErrorLog());
    }

    [Test]
    public async Task EachDomainGoesToTheBackendItsAnswerNames()
    {
        // elsewhere.example's backend is a port where nothing listens: nginx follows the answer there.
        var lines = await LogInAsync("tls", ElsewhereAddress, Password);

        Assert.That(lines.Single(), Does.StartWith("refused").Or.EqualTo("closed"));
        Assert.That(ErrorLog(), Does.Contain($"upstream: 127.0.0.1:{_deadBackendPort}"));
    }
}
