using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// Clients on a network not trusted for plaintext: passwords must not be accepted before TLS.
/// The trusted list is configured to hold only a documentation network, so loopback is untrusted.
/// </summary>
[TestFixture]
public sealed class ImapPlaintextRefusalTests
{
    private const string Address = "julie@family.example";
    private const string Password = "correct horse 42";
    private RunningServer _server = null!;
    private System.Net.IPAddress _from = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _from = System.Net.IPAddress.Loopback;
        _server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Imap__MaxConnectionsPerAddress"] = "3",
            // Replaces the loopback default with a documentation network nobody connects from.
            ["MailAuth__Tls__PlaintextAuthNetworks__0"] = "198.51.100.0/24",
        });
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task LogindisabledIsAdvertisedAndLoginIsRefusedWithPrivacyrequired()
    {
        await using var client = await ImapTestClient.ConnectAsync(_server, source: _from);
        Assert.That(client.Greeting, Is.EqualTo("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE STARTTLS LOGINDISABLED] MailAuth ready"));
        Assert.That(await client.CommandAsync("a", $"LOGIN {Address} \"{Password}\""),
            Is.EqualTo(new[] { "a NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) before logging in" }));
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{Address}\0{Password}"));
        Assert.That(await client.CommandAsync("b", $"AUTHENTICATE PLAIN {plain}"),
            Is.EqualTo(new[] { "b NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) before logging in" }));
        await client.SendAsync("c AUTHENTICATE LOGIN\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("c NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) before logging in"));
        // Refusals before TLS do not count as failed logins and never reach the authenticator: a
        // login over TLS after them is logged, and any line of theirs would have come before it.
        await using (var marker = await ImapTestClient.ConnectAsync(_server, implicitTls: true, source: _from))
        {
            Assert.That(await marker.CommandAsync("m", "LOGIN marker@family.example \"not-the-password\""), Has.Count.EqualTo(1));
        }
        Assert.That(await _server.LoggedAsync("marker@family.example"), Is.True, _server.Log);
        Assert.That(_server.Log.Split('\n').Where(line => line.Contains("protocol=imap", StringComparison.Ordinal) && line.Contains("tls=no", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public async Task AfterStarttlsAuthenticationIsOfferedAndWorks()
    {
        await using var client = await ImapTestClient.ConnectAsync(_server, source: _from);
        Assert.That(await client.CommandAsync("a", "STARTTLS"), Is.EqualTo(new[] { "a OK Begin TLS negotiation now" }));
        await client.UpgradeAsync();
        Assert.That((await client.CommandAsync("b", "CAPABILITY"))[0], Is.EqualTo("* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN"));
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{Address}\0{Password}"));
        Assert.That((await client.CommandAsync("c", $"AUTHENTICATE PLAIN {plain}"))[^1], Does.StartWith("c OK [CAPABILITY"));
    }

    [Test]
    public async Task ConnectionsBeyondThePerAddressLimitGetBye()
    {
        var open = new List<ImapTestClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                open.Add(await ImapTestClient.ConnectAsync(_server, implicitTls: i == 1, source: _from));
            }
            await using var extra = await ImapTestClient.ConnectAsync(_server, source: _from);
            Assert.That(extra.Greeting, Is.EqualTo("* BYE Too many connections from your address"));
            Assert.That(await extra.TryReadLineAsync(), Is.Null);
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }
}
