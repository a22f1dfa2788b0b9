namespace MailAuth.Server.Tests.Smtp;

/// <summary>The listener's per-address limit, answered in SMTP's words on both ports, which count together.</summary>
[TestFixture]
public sealed class SmtpConnectionLimitTests
{
    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await SmtpTestServer.StartAsync(new Dictionary<string, string>
    {
        ["MailAuth__Smtp__MaxConnectionsPerAddress"] = "2",
    });

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task TheConnectionOverTheLimitGets421()
    {
        await using var first = await SmtpTranscript.ConnectAsync(_server, implicitTls: false);
        await using var second = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await first.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"));
        Assert.That(await second.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"));

        await using var plain = await SmtpTranscript.ConnectAsync(_server, implicitTls: false);
        Assert.That(plain.Greeting, Is.EqualTo("421 4.7.0 Too many connections from your address"));
        Assert.That(await plain.IsClosedAsync(), Is.True);

        await using var tls = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(tls.Greeting, Is.EqualTo("421 4.7.0 Too many connections from your address"), "said inside TLS on port 465");
        Assert.That(await tls.IsClosedAsync(), Is.True);
    }
}
