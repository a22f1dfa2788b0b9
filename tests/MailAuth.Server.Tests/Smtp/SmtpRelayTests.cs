using System.Text;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>
/// Non-local recipients go to the relay host, here a second real SMTP listener on loopback; the
/// relay is asked first, so that a refusal leaves no local copy behind.
/// </summary>
[TestFixture]
public sealed class SmtpRelayTests
{
    private SmtpSink _sink = null!;
    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _sink = new SmtpSink();
        _server = await SmtpTestServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Smtp__RelayHost"] = $"127.0.0.1:{_sink.Port}",
            ["MailAuth__Smtp__RelayTimeoutSeconds"] = "10",
        });
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _server.DisposeAsync();
        await _sink.DisposeAsync();
    }

    [SetUp]
    public void ResetSink() => _sink.Reset();

    [TestCase(true)]
    [TestCase(false)]
    public async Task RelaysTheExactMessageAndDeliversTheLocalCopy(bool relayOffersStartTls)
    {
        _sink.OfferStartTls = relayOffersStartTls;
        var token = SmtpTestServer.Token();
        var message = SmtpTestServer.Message(token, to: "bob@elsewhere.example");
        var reply = await SendAsync(message, "Bob@Elsewhere.example", SmtpTestServer.Anna);
        Assert.That(reply, Does.Match(@"^250 2\.0\.0 Message accepted as [0-9A-F]{16}$"));

        Assert.That(_sink.Messages, Has.Count.EqualTo(1));
        var relayed = _sink.Messages.Single();
        Assert.Multiple(() =>
        {
            Assert.That(relayed.MailFrom, Is.EqualTo(SmtpTestServer.Julie));
            Assert.That(relayed.OverTls, Is.EqualTo(relayOffersStartTls), "STARTTLS to the relay whenever it offers it");
            Assert.That(relayed.Recipients, Is.EqualTo(new[] { "Bob@Elsewhere.example" }), "the remote address as the client spelled it");
            var (received, body) = SmtpTestServer.SplitReceived(relayed.Data);
            Assert.That(body, Is.EqualTo(message), "the relay got the message byte for byte, dot-stuffing undone");
            Assert.That(received, Does.Contain("(authenticated as julie@family.example)"));
            var local = SmtpTestServer.Delivered(_server, "anna", token);
            Assert.That(local, Has.Count.EqualTo(1));
            Assert.That(local[0], Is.EqualTo(relayed.Data), "the local copy and the relayed one are the same bytes, Received included");
        });
    }

    [TestCase("451 4.3.0 try later", "", "451 4.4.1 Message not accepted, try again later: relay host answered RCPT TO:<bob@elsewhere.example> with 451 4.3.0 try later")]
    [TestCase("", "451 4.3.0 disk full", "451 4.4.1 Message not accepted, try again later: relay host answered end of DATA with 451 4.3.0 disk full")]
    [TestCase("550 5.1.1 no such user", "", "554 5.4.0 Message refused: relay host answered RCPT TO:<bob@elsewhere.example> with 550 5.1.1 no such user")]
    public async Task ARelayRefusalLeavesNoLocalCopy(string rcptReply, string dataReply, string expected)
    {
        if (rcptReply.Length > 0)
        {
            _sink.RcptReply = rcptReply;
        }
        if (dataReply.Length > 0)
        {
            _sink.DataReply = dataReply;
        }
        var token = SmtpTestServer.Token();
        var reply = await SendAsync(SmtpTestServer.Message(token), SmtpTestServer.Anna, "bob@elsewhere.example");
        Assert.That(reply, Is.EqualTo(expected));
        Assert.That(SmtpTestServer.Delivered(_server, "anna", token), Is.Empty);
        Assert.That(_sink.Messages, Is.Empty);
    }

    [Test]
    public async Task AnUnreachableRelayIsATemporaryFailure()
    {
        _sink.HangUp = true;
        var token = SmtpTestServer.Token();
        var reply = await SendAsync(SmtpTestServer.Message(token), SmtpTestServer.Anna, "bob@elsewhere.example");
        Assert.That(reply, Does.StartWith("451 4.4.1 Message not accepted, try again later: relay host 127.0.0.1:"));
        Assert.That(SmtpTestServer.Delivered(_server, "anna", token), Is.Empty);
    }

    [Test]
    public async Task BareCrDotCrIsTextStoredAsCrLfAndNeverSmuggledToTheRelay()
    {
        // The "SMTP smuggling" shape with bare CRs: a server that ended DATA at CR "." CR would read
        // the rest as a second transaction, and a relay that took CR as a line end would too.
        var token = SmtpTestServer.Token();
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await smtp.LoginAsync(SmtpTestServer.Julie, SmtpTestServer.JuliePassword), Is.EqualTo("235 2.7.0 Authentication successful"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie@family.example>"), Is.EqualTo("250 2.1.0 Sender OK"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<bob@elsewhere.example>"), Is.EqualTo("250 2.1.5 Recipient OK"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<anna@family.example>"), Is.EqualTo("250 2.1.5 Recipient OK"));
        Assert.That(await smtp.CommandAsync("DATA"), Does.StartWith("354 "));
        await smtp.SendAsync($"Subject: {token}\r\n\r\nfirst\r.\rMAIL FROM:<julie@family.example>\rRCPT TO:<eve@elsewhere.example>\rDATA\rsmuggled\r\n.\r\n");
        Assert.That(await smtp.ReadReplyAsync(), Does.Match(@"^250 2\.0\.0 Message accepted as [0-9A-F]{16}$"));
        Assert.That(await smtp.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"), "one reply for one message: nothing after CR . CR was taken as a command");

        var expected = Encoding.ASCII.GetBytes(
            $"Subject: {token}\r\n\r\nfirst\r\n.\r\nMAIL FROM:<julie@family.example>\r\nRCPT TO:<eve@elsewhere.example>\r\nDATA\r\nsmuggled\r\n");
        Assert.That(_sink.Messages, Has.Count.EqualTo(1), "the relay got one message");
        var relayed = _sink.Messages.Single();
        Assert.Multiple(() =>
        {
            Assert.That(relayed.Recipients, Is.EqualTo(new[] { "bob@elsewhere.example" }));
            Assert.That(SmtpTestServer.SplitReceived(relayed.Data).Message, Is.EqualTo(expected),
                "the relay received the lone \".\" as a dot-stuffed line of text, every bare CR as CRLF");
            var local = SmtpTestServer.Delivered(_server, "anna", token);
            Assert.That(local, Has.Count.EqualTo(1));
            Assert.That(SmtpTestServer.SplitReceived(local[0]).Message, Is.EqualTo(expected), "stored with CRLF line ends");
        });
    }

    [Test]
    public async Task UnknownLocalRecipientsAreStillRefusedAtRcpt()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        await smtp.LoginAsync(SmtpTestServer.Julie, SmtpTestServer.JuliePassword);
        await smtp.CommandAsync("MAIL FROM:<julie@family.example>");
        Assert.That(await smtp.CommandAsync("RCPT TO:<nobody@family.example>"), Is.EqualTo("550 5.1.1 Recipient address rejected: no such mailbox"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<bob@elsewhere.example>"), Is.EqualTo("250 2.1.5 Recipient OK"));
    }

    /// <summary>One transaction over STARTTLS; returns the reply to the end of DATA.</summary>
    private async Task<string> SendAsync(byte[] message, params string[] recipients)
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: false);
        await smtp.CommandAsync("EHLO client.example");
        await smtp.StartTlsAsync();
        Assert.That(await smtp.LoginAsync(SmtpTestServer.Julie, SmtpTestServer.JuliePassword), Is.EqualTo("235 2.7.0 Authentication successful"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie@family.example> BODY=8BITMIME"), Is.EqualTo("250 2.1.0 Sender OK"));
        foreach (var recipient in recipients)
        {
            Assert.That(await smtp.CommandAsync($"RCPT TO:<{recipient}>"), Is.EqualTo("250 2.1.5 Recipient OK"));
        }
        Assert.That(await smtp.CommandAsync("DATA"), Does.StartWith("354 "));
        // Dot-stuffed as a client must (RFC 5321 §4.5.2), then the end of data.
        var stuffed = Encoding.UTF8.GetString(message).Replace("\r\n.", "\r\n..", StringComparison.Ordinal);
        await smtp.SendAsync(stuffed + ".\r\n");
        return await smtp.ReadReplyAsync();
    }
}
