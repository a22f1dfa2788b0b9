using System.Globalization;
using MailAuth.Server.Tests.Hostile;
using MailAuth.Server.Tests.Imap;
using static MailAuth.Server.Tests.AuthHttp.AuthHttpServer;
using MailAuth.Server.Tests.SaslService;

namespace MailAuth.Server.Tests.AuthHttp;

/// <summary>
/// nginx's auth_http requests, byte for byte as ngx_mail_auth_http_module writes them, against the
/// real server: the answers nginx acts on, and every refusal.
/// </summary>
[TestFixture]
public sealed class AuthHttpTranscriptTests
{
    private const string Secret = "s3cret with spaces";
    private const string OtherAddress = "paul@other.example";
    private RunningServer _server = null!;
    private int _port;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        (_server, _port) = await AuthHttpServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__AuthHttp__SharedSecret"] = Secret,
            ["MailAuth__AuthHttp__DefaultBackend__SmtpPort"] = "10025",
            ["MailAuth__AuthHttp__Backends__other.example__Address"] = "192.0.2.25",
            ["MailAuth__AuthHttp__Backends__other.example__ImapPort"] = "1143",
            ["MailAuth__AuthHttp__Backends__other.example__SmtpPort"] = "0",
        });
        Assert.That((await _server.Cli.RunAsync("domain", "add", "other.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", OtherAddress)).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private Task<HttpAnswer> AskAsync(IDictionary<string, string?>? changes = null, string requestLine = "GET /auth HTTP/1.0")
    {
        var all = new Dictionary<string, string?> { ["X-MailAuth-Secret"] = Secret };
        foreach (var (name, value) in changes ?? new Dictionary<string, string?>())
        {
            all[name] = value;
        }
        return SendAsync(_port, Request(all, requestLine));
    }

    [Test]
    public async Task TheRightPasswordIsSentToThisServersImapPort()
    {
        var answer = await AskAsync();

        Assert.That(answer.Code, Is.EqualTo(200));
        Assert.That(answer.AuthHeaders, Is.EqualTo($"Auth-Port: {_server.ImapPort}; Auth-Server: 127.0.0.1; Auth-Status: OK"));
        // The throttle and the log see the mail client (Client-IP), not nginx.
        Assert.That(await SaslServiceServer.LogShowsAsync(_server,
            $"auth result=ok reason=verified protocol=auth-http-imap mechanism=PLAIN tls=yes remote=192.0.2.7 address={Address}"), Is.True, _server.Log);
    }

    [Test]
    public async Task SmtpGoesToTheDefaultBackendsSmtpPort()
    {
        var answer = await AskAsync(new Dictionary<string, string?> { ["Auth-Protocol"] = "smtp" });

        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Port: 10025; Auth-Server: 127.0.0.1; Auth-Status: OK"));
    }

    [Test]
    public async Task ADomainWithItsOwnBackendIsSentThere()
    {
        var answer = await AskAsync(new Dictionary<string, string?> { ["Auth-User"] = "Paul@OTHER.example" });

        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Port: 1143; Auth-Server: 192.0.2.25; Auth-Status: OK"));
    }

    [Test]
    public async Task AProtocolTheBackendDoesNotOfferIsRefusedWithoutHashing()
    {
        var pop3 = await AskAsync(new Dictionary<string, string?> { ["Auth-Protocol"] = "pop3" });
        var smtp = await AskAsync(new Dictionary<string, string?> { ["Auth-Protocol"] = "smtp", ["Auth-User"] = OtherAddress });

        Assert.That(pop3.AuthHeaders, Is.EqualTo("Auth-Status: POP3 is not offered for this address"));
        Assert.That(smtp.AuthHeaders, Is.EqualTo("Auth-Error-Code: 554 5.7.0; Auth-Status: SMTP is not offered for this address"));
        Assert.That(await SaslServiceServer.LogShowsAsync(_server, "auth-http: POP3 has no backend port for family.example"), Is.True, _server.Log);
    }

    [Test]
    public async Task AWrongPasswordAndAnUnknownUserGetTheSameAnswerAndMayRetry()
    {
        var wrong = await AskAsync(new Dictionary<string, string?> { ["Auth-Pass"] = "wrong", ["Client-IP"] = "192.0.2.31" });
        var unknown = await AskAsync(new Dictionary<string, string?> { ["Auth-User"] = "nobody@family.example", ["Client-IP"] = "192.0.2.31" });

        Assert.That(wrong.Code, Is.EqualTo(200));
        Assert.That(wrong.AuthHeaders, Is.EqualTo("Auth-Status: Invalid login or password; Auth-Wait: 2"));
        Assert.That(unknown.AuthHeaders, Is.EqualTo(wrong.AuthHeaders));
    }

    [Test]
    public async Task TheLastAllowedAttemptGetsNoWaitSoNginxClosesTheConnection()
    {
        var answer = await AskAsync(new Dictionary<string, string?> { ["Auth-Pass"] = "wrong", ["Auth-Login-Attempt"] = "3", ["Client-IP"] = "192.0.2.32" });

        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Status: Invalid login or password"));
    }

    [Test]
    public async Task AnSmtpFailureCarriesItsReplyCode()
    {
        var answer = await AskAsync(new Dictionary<string, string?> { ["Auth-Protocol"] = "smtp", ["Auth-Pass"] = "wrong", ["Client-IP"] = "192.0.2.33" });

        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Error-Code: 535 5.7.8; Auth-Status: Invalid login or password; Auth-Wait: 2"));
    }

    [Test]
    public async Task APasswordIsTakenAsNginxEscapedIt()
    {
        // Space, % and ö: nginx sends %20 and %25, and ö as its two UTF-8 bytes.
        Assert.That(NginxEscape(Password), Is.EqualTo("p@ss%20w\u00c3\u00b6rd%251"));
        var allEscaped = string.Concat(System.Text.Encoding.UTF8.GetBytes(Password).Select(b => $"%{b:x2}"));

        Assert.That((await AskAsync()).AuthHeaders, Does.Contain("Auth-Status: OK"));
        Assert.That((await AskAsync(new Dictionary<string, string?> { ["Auth-Pass"] = allEscaped })).AuthHeaders, Does.Contain("Auth-Status: OK"));
    }

    [Test]
    public async Task WithoutTlsThePasswordIsRefusedUnchecked()
    {
        var imap = await AskAsync(new Dictionary<string, string?> { ["Auth-SSL"] = null });
        var smtp = await AskAsync(new Dictionary<string, string?> { ["Auth-SSL"] = "off", ["Auth-Protocol"] = "smtp" });

        Assert.That(imap.AuthHeaders, Is.EqualTo("Auth-Status: Plaintext authentication disallowed on non-secure (SSL/TLS) connections"));
        Assert.That(smtp.AuthHeaders, Is.EqualTo("Auth-Error-Code: 538 5.7.11; Auth-Status: Plaintext authentication disallowed on non-secure (SSL/TLS) connections"));
    }

    [TestCase("Auth-User", null, "the Auth-User header is missing")]
    [TestCase("Auth-Pass", null, "the Auth-Pass header is missing")]
    [TestCase("Auth-Protocol", null, "the Auth-Protocol header is missing")]
    [TestCase("Auth-Method", null, "the Auth-Method header is missing")]
    [TestCase("Auth-Login-Attempt", null, "the Auth-Login-Attempt header is missing")]
    [TestCase("Client-IP", null, "the Client-IP header is missing")]
    [TestCase("Auth-Protocol", "nntp", "Auth-Protocol must be imap, pop3 or smtp")]
    [TestCase("Auth-Method", "cram-md5", "Auth-Method 'cram-md5' is not supported (only plain: passwords are stored as Argon2id hashes)")]
    [TestCase("Auth-Method", "apop", "Auth-Method 'apop' is not supported (only plain: passwords are stored as Argon2id hashes)")]
    [TestCase("Auth-Method", "external", "Auth-Method 'external' is not supported (only plain: passwords are stored as Argon2id hashes)")]
    [TestCase("Auth-User", "", "Auth-User is empty")]
    [TestCase("Auth-User", "julie%4", "Auth-User is not URL-escaped UTF-8")]
    [TestCase("Auth-Pass", "p%zzw", "Auth-Pass is not URL-escaped UTF-8")]
    [TestCase("Auth-Pass", "caf%e9", "Auth-Pass is not URL-escaped UTF-8")]
    [TestCase("Auth-Pass", "tab\there", "Auth-Pass is not URL-escaped UTF-8")]
    [TestCase("Auth-Login-Attempt", "0", "Auth-Login-Attempt must be a positive number")]
    [TestCase("Auth-Login-Attempt", "-1", "Auth-Login-Attempt must be a positive number")]
    [TestCase("Auth-Login-Attempt", "one", "Auth-Login-Attempt must be a positive number")]
    [TestCase("Client-IP", "client.example", "Client-IP must be an IP address")]
    public async Task AMalformedRequestIsRefusedNamingTheHeader(string header, string? value, string error)
    {
        var answer = await AskAsync(new Dictionary<string, string?> { [header] = value });

        Assert.That(answer.Code, Is.EqualTo(400));
        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Status: Invalid request: " + error));
        Assert.That(await SaslServiceServer.LogShowsAsync(_server, "auth-http request refused: " + error), Is.True, _server.Log);
    }

    [Test]
    public async Task AHeaderGivenTwiceIsRefused()
    {
        var request = Request(new Dictionary<string, string?> { ["X-MailAuth-Secret"] = Secret })
            .Replace("Auth-User:", "Auth-User: mallory@family.example\r\nAuth-User:", StringComparison.Ordinal);

        var answer = await SendAsync(_port, request);

        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Status: Invalid request: the Auth-User header is given more than once"));
    }

    [Test]
    public async Task AnSmtpRequestRefusedAsMalformedStillHasAnSmtpCode()
    {
        var answer = await AskAsync(new Dictionary<string, string?> { ["Auth-Protocol"] = "SMTP", ["Client-IP"] = null });

        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Error-Code: 451 4.3.0; Auth-Status: Invalid request: the Client-IP header is missing"));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("s3cret")]
    [TestCase("S3CRET WITH SPACES")]
    public async Task WithoutTheSharedSecretNothingIsAnswered(string? secret)
    {
        var answer = await AskAsync(new Dictionary<string, string?> { ["X-MailAuth-Secret"] = secret });

        Assert.That(answer.Code, Is.EqualTo(403));
        // The protocol is not looked at before the secret, so the SMTP code is always there (nginx ignores it otherwise).
        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Error-Code: 451 4.3.0; Auth-Status: Temporary server problem, try again later"));
        Assert.That(await SaslServiceServer.LogShowsAsync(_server, "auth-http request refused: no or a wrong X-MailAuth-Secret header"), Is.True, _server.Log);
    }

    [Test]
    public async Task TheSecretHeaderGivenTwiceIsRefused()
    {
        var request = Request(new Dictionary<string, string?> { ["X-MailAuth-Secret"] = Secret })
            .Replace("X-MailAuth-Secret:", $"X-MailAuth-Secret: {Secret}\r\nX-MailAuth-Secret:", StringComparison.Ordinal);

        Assert.That((await SendAsync(_port, request)).Code, Is.EqualTo(403));
    }

    [TestCase("POST /auth HTTP/1.1", 405)]
    [TestCase("DELETE / HTTP/1.1", 405)]
    [TestCase("GET /any/path/nginx/is/configured/with HTTP/1.1", 200)]
    public async Task OnlyGetIsAnsweredOnAnyPath(string requestLine, int code)
    {
        var answer = await AskAsync(requestLine: requestLine);

        Assert.That(answer.Code, Is.EqualTo(code));
    }

    [Test]
    public async Task ARequestWithABodyIsRefused()
    {
        var request = Request(new Dictionary<string, string?> { ["X-MailAuth-Secret"] = Secret, ["Content-Length"] = "5" }).Replace("\r\n\r\n", "\r\n\r\nhello", StringComparison.Ordinal);

        var answer = await SendAsync(_port, request);

        Assert.That(answer.Code, Is.EqualTo(400));
        Assert.That(answer.AuthHeaders, Is.EqualTo("Auth-Status: Invalid request: a body was sent (nginx sends none)"));
    }

    [Test]
    public async Task OversizeHeadersAreRefusedBeforeTheyAreBuffered()
    {
        var huge = new string('a', 20_000);

        var answer = await AskAsync(new Dictionary<string, string?> { ["Auth-Pass"] = huge });

        Assert.That(answer.Code, Is.EqualTo(431), "Request Header Fields Too Large");
    }

    [Test]
    public async Task AnOversizeRequestLineIsRefused()
    {
        var answer = await AskAsync(requestLine: $"GET /{new string('a', 10_000)} HTTP/1.0");

        Assert.That(answer.Code, Is.EqualTo(414), "URI Too Long");
    }

    [Test]
    public async Task GarbageIsAnsweredWithBadRequestAndClosed()
    {
        await using var connection = await LineConnection.OpenAsync(_port);
        await connection.SendAsync("\u0001\u0002 HELLO\r\n\r\n");

        Assert.That(await connection.ReadLineAsync(), Does.StartWith("HTTP/1.1 400"));
        Assert.That(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
    }

    [Category("External")]
    [Test]
    public async Task TheUnixSocketAnswersToo()
    {
        var socket = Path.Combine(_server.Cli.DataDirectory, SocketName);
        Assert.That(File.GetUnixFileMode(socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));

        // curl plays nginx here: the same headers, with the password escaped as nginx does (ASCII only in argv).
        var result = await ExternalClient.RunAsync("curl", "-s", "-i", "--unix-socket", socket, "http://localhost/auth",
            "-H", "Auth-Method: plain", "-H", $"Auth-User: {Address}", "-H", "Auth-Pass: p@ss%20w%c3%b6rd%251",
            "-H", "Auth-Protocol: imap", "-H", "Auth-Login-Attempt: 1", "-H", "Client-IP: 2001:db8::7", "-H", "Auth-SSL: on",
            "-H", $"X-MailAuth-Secret: {Secret}");

        Assert.That(result.Stdout, Does.Contain("Auth-Status: OK\r\n").And.Contain($"Auth-Port: {_server.ImapPort.ToString(CultureInfo.InvariantCulture)}\r\n"), result.ToString());
        Assert.That(await SaslServiceServer.LogShowsAsync(_server, "protocol=auth-http-imap mechanism=PLAIN tls=yes remote=2001:db8::7"), Is.True, _server.Log);
    }

    [Test]
    public void TheAnswerFitsNginxsOneKilobyteBuffer()
    {
        // ngx_mail_auth_http_read_handler reads the answer into one 1024-byte buffer.
        var longest = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nDate: Sun, 22 Nov 2026 04:42:25 GMT\r\n"
            + "Auth-Status: Invalid request: Auth-Method '" + new string('x', 32) + "' is not supported (only plain: passwords are stored as Argon2id hashes)\r\n"
            + "Auth-Error-Code: 451 4.3.0\r\n\r\n";

        Assert.That(longest.Length, Is.LessThan(1024));
    }
}
