using MailAuth.Server.Tests.Observability;

namespace MailAuth.Server.Tests.Cli;

/// <summary>Issue 21: <c>config check</c> says that clients refuse the generated certificate, and only when it is the one served.</summary>
[TestFixture]
public sealed class SelfSignedNoticeTests
{
    private MailAuthProcess _cli = null!;

    [SetUp]
    public void SetUp()
    {
        _cli = new MailAuthProcess();
        foreach (var key in new[] { "MailAuth__Imap__Port", "MailAuth__Imap__TlsPort", "MailAuth__Smtp__SubmissionPort", "MailAuth__Smtp__SubmissionsPort" })
        {
            _cli.Environment[key] = "0";
        }
    }

    [TearDown]
    public void TearDown() => _cli.Dispose();

    [Test]
    public async Task NoNoticeWithACertificateOrAcme()
    {
        var (certificate, key) = TestCertificates.Write(_cli.WorkingDirectory, "mail.family.example",
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(60));
        _cli.Environment["MailAuth__Tls__CertificateFile"] = certificate;
        _cli.Environment["MailAuth__Tls__KeyFile"] = key;
        Assert.That(await _cli.RunAsync("config", "check"), Is.EqualTo(new CliResult(0, $"configuration OK (data directory {_cli.DataDirectory})\n", "")));

        _cli.Environment.Remove("MailAuth__Tls__CertificateFile");
        _cli.Environment.Remove("MailAuth__Tls__KeyFile");
        _cli.Environment["MailAuth__Tls__Acme__Enabled"] = "true";
        _cli.Environment["MailAuth__Tls__Acme__HostNames__0"] = "mail.family.example";
        _cli.Environment["MailAuth__Web__Port"] = RunningServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        _cli.Environment["MailAuth__Web__HttpPort"] = RunningServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(await _cli.RunAsync("config", "check"), Is.EqualTo(new CliResult(0, $"configuration OK (data directory {_cli.DataDirectory})\n", "")));
    }

    [Test]
    public async Task AcmeSettingsAreValidatedByName()
    {
        _cli.Environment["MailAuth__Tls__Acme__Enabled"] = "true";
        _cli.Environment["MailAuth__Tls__Acme__DirectoryUrl"] = "http://acme.example/directory";
        _cli.Environment["MailAuth__Tls__Acme__HostNames__0"] = "*.family.example";
        _cli.Environment["MailAuth__Tls__Acme__Email"] = "not an address";
        _cli.Environment["MailAuth__Tls__CertificateFile"] = "/etc/ssl/mail.pem";
        _cli.Environment["MailAuth__Tls__KeyFile"] = "/etc/ssl/mail.key";
        var result = await _cli.RunAsync("config", "check");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr.TrimEnd('\n').Split('\n'), Is.EqualTo(new[]
        {
            "error: invalid configuration: MailAuth:Tls:Acme:DirectoryUrl must be an https:// URL, not 'http://acme.example/directory'",
            "error: invalid configuration: MailAuth:Tls:Acme:Email must be one address like postmaster@example.org, not 'not an address'",
            "error: invalid configuration: MailAuth:Tls:Acme:HostNames: '*.family.example' is not a host name like mail.example.org (no wildcards or IP addresses)",
            "error: invalid configuration: MailAuth:Tls:Acme:Enabled is true and MailAuth:Tls:CertificateFile is set: choose one source of the certificate",
            "error: invalid configuration: MailAuth:Tls:Acme:Enabled needs the web listener's plain-HTTP port (MailAuth:Web:Port and MailAuth:Web:HttpPort): the CA checks HTTP-01 challenges there",
        }));
    }

    [Test]
    public async Task ServeSaysWhatClientsWillShowAndGivesTheFingerprint()
    {
        await using var server = await RunningServer.StartAsync();
        var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(
            File.ReadAllText(Path.Combine(server.Cli.DataDirectory, "tls", "certificate.pem")));
        Assert.That(await server.LoggedAsync(
            "tls: the certificate is self-signed: mail clients will show a security warning or refuse to connect"), Is.True, server.Log);
        Assert.That(server.Log, Does.Contain("MailAuth:Tls:Acme:Enabled")
            .And.Contains("SHA-256 fingerprint " + certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)));
    }
}
