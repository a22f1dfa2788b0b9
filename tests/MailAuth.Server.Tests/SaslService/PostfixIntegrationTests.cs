using MailAuth.Server.Tests.Imap;
using static MailAuth.Server.Tests.SaslService.SaslServiceServer;

namespace MailAuth.Server.Tests.SaslService;

/// <summary>
/// Debian's real Postfix (<c>test.sh</c> installs it) authenticates SMTP clients through MailAuth
/// with <c>smtpd_sasl_type = dovecot</c> and <c>smtpd_sasl_path = inet:127.0.0.1:PORT</c>, in a
/// private instance: its own configuration directory, queue, loopback port and log file.
/// </summary>
[TestFixture]
[Category("External")]
[NonParallelizable]
public sealed class PostfixIntegrationTests
{
    /// <summary>Python's smtplib: EHLO, optionally STARTTLS (verifying MailAuth's certificate), AUTH; prints the code.</summary>
    private const string SmtpClient = """
        import smtplib, ssl, sys
        port, cafile, tls, mechanism, user, password = sys.argv[1:]
        client = smtplib.SMTP("127.0.0.1", int(port), timeout=20)
        client.ehlo()
        if tls == "tls":
            client.starttls(context=ssl.create_default_context(cafile=cafile))
            client.ehlo()
        client.user, client.password = user, password
        method = client.auth_plain if mechanism == "PLAIN" else client.auth_login
        try:
            code, text = client.auth(mechanism, method, initial_response_ok=(mechanism == "PLAIN"))
        except smtplib.SMTPAuthenticationError as e:
            code, text = e.smtp_code, e.smtp_error
        print(code, text.decode())
        client.quit()
        """;

    private RunningServer _server = null!;
    private PostfixInstance _postfix = null!;

    [OneTimeSetUp]
    public async Task StartPostfix()
    {
        int saslPort;
        (_server, saslPort) = await SaslServiceServer.StartAsync();
        var tls = Path.Combine(_server.Cli.DataDirectory, "tls");
        _postfix = await PostfixInstance.StartAsync(Path.Combine(_server.Cli.WorkingDirectory, "postfix"), "localhost", $"""
            smtpd_tls_security_level = may
            smtpd_tls_cert_file = {tls}/certificate.pem
            smtpd_tls_key_file = {tls}/key.pem
            smtpd_tls_auth_only = no
            smtpd_sasl_auth_enable = yes
            smtpd_sasl_type = dovecot
            smtpd_sasl_path = inet:127.0.0.1:{saslPort}

            """);
        await File.WriteAllTextAsync(Path.Combine(_postfix.Work, "client.py"), SmtpClient);
    }

    [OneTimeTearDown]
    public async Task StopPostfix()
    {
        if (_postfix is not null)
        {
            await _postfix.DisposeAsync();
        }
        await _server.DisposeAsync();
    }

    private string MailLog() => _postfix.MailLog();

    private async Task<string> AuthenticateAsync(string tls, string mechanism, string user, string password)
    {
        var result = await ExternalClient.RunAsync("python3", Path.Combine(_postfix.Work, "client.py"),
            _postfix.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Path.Combine(_server.Cli.DataDirectory, "tls", "certificate.pem"), tls, mechanism, user, password);
        Assert.That(result.ExitCode, Is.Zero, $"{result}\n{MailLog()}");
        return result.Stdout.Trim();
    }

    [TestCase("PLAIN")]
    [TestCase("LOGIN")]
    public async Task TheRightPasswordIsAccepted(string mechanism)
    {
        Assert.That(await AuthenticateAsync("tls", mechanism, Address, Password), Does.StartWith("235 "), MailLog());
        // The first success is "verified", a later one may be "cached" (VerifiedLoginCacheSeconds).
        var line = new System.Text.RegularExpressions.Regex(
            $"auth result=ok reason=(verified|cached) protocol=sasl-service mechanism={mechanism} tls=yes remote=127\\.0\\.0\\.1 address={System.Text.RegularExpressions.Regex.Escape(Address)}");
        Assert.That(await LogMatchesAsync(_server, line), Is.True, _server.Log);
    }

    [TestCase("PLAIN")]
    [TestCase("LOGIN")]
    public async Task AWrongPasswordIsRefusedWith535(string mechanism)
    {
        Assert.That(await AuthenticateAsync("tls", mechanism, Address, "wrong-password"),
            Is.EqualTo("535 5.7.8 Error: authentication failed: Authentication failed"), MailLog());
    }

    [TestCase("PLAIN")]
    [TestCase("LOGIN")]
    public async Task AnUnknownUserGetsTheSameAnswer(string mechanism)
    {
        Assert.That(await AuthenticateAsync("tls", mechanism, "nobody@family.example", Password),
            Is.EqualTo("535 5.7.8 Error: authentication failed: Authentication failed"), MailLog());
    }

    [Test]
    public async Task WithoutTlsPostfixDoesNotSaySecuredAndThePasswordIsRefused()
    {
        var answer = await AuthenticateAsync("plain", "PLAIN", Address, Password);

        Assert.That(answer, Does.StartWith("535 5.7.8 Error: authentication failed: Plaintext authentication disallowed"), MailLog());
    }
}
