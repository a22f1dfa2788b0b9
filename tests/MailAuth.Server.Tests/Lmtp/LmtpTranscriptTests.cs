using System.Net.Sockets;
using System.Text;
using static MailAuth.Server.Tests.Lmtp.LmtpServer;

namespace MailAuth.Server.Tests.Lmtp;

/// <summary>Raw LMTP transcripts (RFC 2033) against the real server, on its TCP port and its UNIX socket.</summary>
[TestFixture]
public sealed class LmtpTranscriptTests
{
    private LmtpServer _lmtp = null!;

    [OneTimeSetUp]
    public async Task Start() => _lmtp = await LmtpServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _lmtp.DisposeAsync();

    [Test]
    public async Task TheRfc2033ExampleGetsOneReplyPerRecipientAfterData()
    {
        // RFC 2033 §4.3, with this server's mailboxes: pat is julie, green is anna, jones is unknown.
        await using var client = await _lmtp.ConnectAsync();
        await client.SendAsync("LHLO foo.edu\r\n");
        var lhlo = await client.ReadLinesAsync(6);
        Assert.That(lhlo[0], Does.StartWith("250-"));
        Assert.That(lhlo[1..], Is.EqualTo(new[] { "250-PIPELINING", "250-SIZE 52428800", "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250 SMTPUTF8" }));
        await client.SendAsync("MAIL FROM:<chris@bar.com>\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("250 2.1.0 Sender OK"));
        await client.SendAsync($"RCPT TO:<{Julie}>\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("250 2.1.5 Recipient OK"));
        await client.SendAsync("RCPT TO:<jones@family.example>\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("550 5.1.1 Recipient address rejected: no such mailbox"));
        await client.SendAsync($"RCPT TO:<{Anna}>\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("250 2.1.5 Recipient OK"));
        await client.SendAsync("DATA\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("354 "));
        await client.SendAsync("Subject: rfc2033\r\n\r\nBlah blah blah...\r\n..dot-stuffed\r\n.\r\n");
        var replies = await client.ReadLinesAsync(2);
        Assert.That(replies[0], Does.Match($"^250 2\\.0\\.0 <{Julie}> [0-9A-F]{{16}} Saved$"));
        Assert.That(replies[1], Does.Match($"^250 2\\.0\\.0 <{Anna}> [0-9A-F]{{16}} Saved$"));
        await client.SendAsync("QUIT\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("221 2.0.0 "));

        foreach (var address in new[] { Julie, Anna })
        {
            var message = _lmtp.Inbox(address).Single(m => m.Contains("Subject: rfc2033", StringComparison.Ordinal));
            Assert.That(message, Does.StartWith($"Return-Path: <chris@bar.com>\r\nDelivered-To: {address}\r\nReceived: from foo.edu ([127.0.0.1])\r\n"));
            Assert.That(message, Does.EndWith("\r\nSubject: rfc2033\r\n\r\nBlah blah blah...\r\n.dot-stuffed\r\n"));
        }
    }

    [Test]
    public async Task PipelinedCommandsGetTheirRepliesInOrderAndADuplicateRecipientOneCopy()
    {
        await using var client = await _lmtp.ConnectAsync();
        await client.SendAsync(
            "LHLO mx.example\r\nMAIL FROM:<> BODY=8BITMIME SIZE=40\r\n" +
            $"RCPT TO:<{Bob}>\r\nRCPT TO:<someone@elsewhere.example>\r\nRCPT TO:<JULIE@Family.Example>\r\nRCPT TO:<{Julie}>\r\nDATA\r\n");
        var replies = await client.ReadLinesAsync(12);
        Assert.That(replies[6..], Is.EqualTo(new[]
        {
            "250 2.1.0 Sender OK",
            "550 5.2.1 Recipient address rejected: mailbox disabled",
            "550 5.1.2 Recipient address rejected: domain not hosted here",
            "250 2.1.5 Recipient OK",
            "250 2.1.5 Recipient OK",
            "354 Start mail input; end with <CRLF>.<CRLF>",
        }));
        await client.SendAsync("Subject: bounce\r\n\r\n\u00e9t\u00e9\r\n.\r\n");
        var afterData = await client.ReadLinesAsync(2);
        Assert.That(afterData, Has.All.Match($"^250 2\\.0\\.0 <{Julie}> "));
        Assert.That(_lmtp.Inbox(Julie).Count(m => m.Contains("Subject: bounce", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(_lmtp.Inbox(Julie).Single(m => m.Contains("Subject: bounce", StringComparison.Ordinal)), Does.StartWith("Return-Path: <>\r\n").And.EndWith("\r\n\u00e9t\u00e9\r\n"));
        Assert.That(_lmtp.Inbox(Bob), Is.Empty);
    }

    [TestCase("HELO mx.example", "500 5.5.1 This is LMTP (RFC 2033): use LHLO")]
    [TestCase("EHLO mx.example", "500 5.5.1 This is LMTP (RFC 2033): use LHLO")]
    [TestCase("MAIL FROM:<a@b.example>", "503 5.5.1 Send LHLO first")]
    [TestCase("LHLO", "501 5.5.4 Syntax: LHLO hostname")]
    [TestCase("BDAT 10 LAST", "500 5.5.1 Command unrecognized")]
    public async Task CommandsOutOfPlaceAreRefused(string command, string reply)
    {
        await using var client = await _lmtp.ConnectAsync();
        await client.SendAsync(command + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo(reply));
    }

    [Test]
    public async Task DataWithoutAnAcceptedRecipientIsRefusedWith503()
    {
        await using var client = await _lmtp.ConnectAsync();
        await client.SendAsync("LHLO mx.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<nobody@family.example>\r\nDATA\r\nRSET\r\nNOOP\r\nRCPT TO:<julie@family.example>\r\n");
        var replies = await client.ReadLinesAsync(12);
        Assert.That(replies[6..], Is.EqualTo(new[]
        {
            "250 2.1.0 Sender OK",
            "550 5.1.1 Recipient address rejected: no such mailbox",
            "503 5.5.1 Need RCPT before DATA",
            "250 2.0.0 OK",
            "250 2.0.0 OK",
            "503 5.5.1 Need MAIL before RCPT",
        }));
    }

    [Test]
    public async Task AMailboxDisabledDuringTheTransactionIsRefusedAfterDataWhileTheOthersGetTheirCopy()
    {
        await using var client = await _lmtp.ConnectAsync();
        await client.SendAsync($"LHLO mx.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<{Julie}>\r\nRCPT TO:<{Anna}>\r\nDATA\r\n");
        Assert.That((await client.ReadLinesAsync(10))[^1], Does.StartWith("354 "));
        Assert.That((await _lmtp.Server.Cli.RunAsync("mailbox", "disable", Anna, "--reason", "test")).ExitCode, Is.Zero);
        try
        {
            await client.SendAsync("Subject: race\r\n\r\nx\r\n.\r\n");
            var replies = await client.ReadLinesAsync(2);
            Assert.That(replies[0], Does.StartWith($"250 2.0.0 <{Julie}> "));
            Assert.That(replies[1], Is.EqualTo("550 5.2.1 Recipient address rejected: mailbox disabled"));
            Assert.That(_lmtp.Inbox(Anna).Any(m => m.Contains("Subject: race", StringComparison.Ordinal)), Is.False);
        }
        finally
        {
            Assert.That((await _lmtp.Server.Cli.RunAsync("mailbox", "enable", Anna)).ExitCode, Is.Zero);
        }
    }

    [Test]
    public async Task TheUnixSocketServesRoot()
    {
        await using var socket = await LineConnection.OpenUnixAsync(_lmtp.SocketPath);
        Assert.That(await socket.ReadLineAsync(), Does.Match("^220 .* LMTP MailAuth ready$"));
        await socket.SendAsync($"LHLO local\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<{Julie}>\r\nDATA\r\n");
        for (var i = 0; i < 9; i++)
        {
            await socket.ReadLineAsync();
        }
        await socket.SendAsync("Subject: over the socket\r\n\r\nx\r\n.\r\nQUIT\r\n");
        Assert.That(await socket.ReadLineAsync(), Does.StartWith($"250 2.0.0 <{Julie}> "));
        Assert.That(_lmtp.Inbox(Julie).Single(m => m.Contains("Subject: over the socket", StringComparison.Ordinal)),
            Does.Contain("Received: from local (local socket)\r\n"));
    }

    [Test]
    [Category("External")]
    public async Task AnotherLocalUserIsClosedOnWithoutAGreeting()
    {
        const string Script = """
            import socket, sys
            client = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            client.settimeout(10)
            print(repr(client.recv(100)))
            """;
        var result = await OtherUser.PythonAsync(OtherUser.Nobody, "nogroup", Script, _lmtp.LmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(result.Stdout.Trim(), Is.EqualTo("b''"), result.ToString());
        Assert.That(await _lmtp.Server.LoggedAsync("lmtp connection on inet:127.0.0.1:"), Is.True, _lmtp.Server.Log);
        Assert.That(_lmtp.Server.Log, Does.Contain("is not allowed to connect"));
    }
}
