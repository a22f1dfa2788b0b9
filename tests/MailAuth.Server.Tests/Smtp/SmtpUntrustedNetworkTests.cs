using System.Net;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>
/// A client on a network that is not trusted for plaintext authentication: the trusted list is
/// configured to hold only a documentation network, so loopback is untrusted here.
/// </summary>
[TestFixture]
public sealed class SmtpUntrustedNetworkTests
{
    private RunningServer _server = null!;
    private IPAddress _address = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _address = IPAddress.Loopback;
        _server = await SmtpTestServer.StartAsync(new Dictionary<string, string>
        {
            // Replaces the loopback default with a documentation network nobody connects from.
            ["MailAuth__Tls__PlaintextAuthNetworks__0"] = "198.51.100.0/24",
            ["MailAuth__Smtp__PreLoginIdleTimeoutSeconds"] = "3",
        });
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task AuthIsNeitherOfferedNorAcceptedBeforeTls()
    {
        await using var smtp = await ConnectAsync();
        var ehlo = await smtp.CommandAsync("EHLO client.example");
        Assert.That(ehlo, Does.Contain("250-STARTTLS"));
        Assert.That(ehlo, Does.Not.Contain("AUTH"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0" + SmtpTestServer.JuliePassword)),
            Is.EqualTo("538 5.7.11 Encryption required for requested authentication mechanism"));
        Assert.That(await smtp.CommandAsync("AUTH LOGIN"), Is.EqualTo("538 5.7.11 Encryption required for requested authentication mechanism"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie@family.example>"), Is.EqualTo("530 5.7.0 Authentication required"));

        await smtp.StartTlsAsync();
        Assert.That(await smtp.CommandAsync("EHLO client.example"), Does.Contain("250-AUTH PLAIN LOGIN"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0" + SmtpTestServer.JuliePassword)),
            Is.EqualTo("235 2.7.0 Authentication successful"));
    }

    [Test]
    public async Task ASilentClientIsDisconnectedBeforeLogin()
    {
        await using var smtp = await ConnectAsync();
        var started = DateTime.UtcNow;
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("421 4.4.2 Idle timeout, closing connection"));
        Assert.That(DateTime.UtcNow - started, Is.GreaterThan(TimeSpan.FromSeconds(2.5)));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
    }

    private Task<SmtpTranscript> ConnectAsync() =>
        SmtpTranscript.ConnectAsync(_address, _server.SubmissionPort, implicitTls: false, SmtpTestServer.CertificateFile(_server));
}
