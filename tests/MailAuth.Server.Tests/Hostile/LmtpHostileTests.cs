using System.Globalization;
using System.Net.Sockets;
using System.Text;
using MailAuth.Server.Tests.Lmtp;
using static MailAuth.Server.Tests.Lmtp.LmtpServer;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>
/// The LMTP and socketmap listeners under bad input, with small limits: every limit holds before
/// anything is buffered, and a bad line costs one reply, not the session.
/// </summary>
[TestFixture]
public sealed class LmtpHostileTests
{
    private LmtpServer _lmtp = null!;

    [OneTimeSetUp]
    public async Task Start() => _lmtp = await LmtpServer.StartAsync(new Dictionary<string, string>
    {
        ["MailAuth__Lmtp__MaxLineLength"] = "512",
        ["MailAuth__Lmtp__MaxMessageSize"] = "10000",
        ["MailAuth__Lmtp__IdleTimeoutSeconds"] = "2",
    });

    [OneTimeTearDown]
    public async Task Stop() => await _lmtp.DisposeAsync();

    [Test]
    public async Task AnOverlongLineIsDroppedUnreadAndTheSessionGoesOn()
    {
        await using var client = await _lmtp.ConnectAsync();
        // 256 KiB without a line end (500 times the limit): only MaxLineLength bytes are ever held. Kept well
        // under what a loaded machine moves in the fixture's 2-second idle timeout.
        await client.SendAsync(Encoding.ASCII.GetBytes("NOOP " + new string('x', 256 * 1024) + "\r\nNOOP\r\n"));
        Assert.That(await client.ReadLinesAsync(2), Is.EqualTo(new[] { "500 5.5.2 Line too long", "250 2.0.0 OK" }));
    }

    [Test]
    public async Task AMessageOverTheLimitIsReadToItsEndAndRefusedForEachRecipient()
    {
        await using var client = await _lmtp.ConnectAsync();
        await client.SendAsync($"LHLO mx\r\nMAIL FROM:<a@b.example> SIZE=10001\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<{Julie}>\r\nRCPT TO:<{Anna}>\r\nDATA\r\n");
        var replies = await client.ReadLinesAsync(11);
        Assert.That(replies[6], Is.EqualTo("552 5.3.4 Message size exceeds fixed maximum message size"));
        Assert.That(replies[10], Does.StartWith("354 "));
        await client.SendAsync("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('y', 998) + "\r\n", 20)) + ".\r\nNOOP\r\n");
        Assert.That(await client.ReadLinesAsync(3), Is.EqualTo(new[]
        {
            "552 5.3.4 Message size exceeds fixed maximum message size",
            "552 5.3.4 Message size exceeds fixed maximum message size",
            "250 2.0.0 OK",
        }));
        Assert.That(_lmtp.Inbox(Julie).Any(m => m.Contains("Subject: big", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task TheHundredAndFirstRecipientIsRefusedWith452()
    {
        await using var client = await _lmtp.ConnectAsync();
        var commands = new StringBuilder("LHLO mx\r\nMAIL FROM:<a@b.example>\r\n");
        for (var i = 0; i < 101; i++)
        {
            commands.Append(CultureInfo.InvariantCulture, $"RCPT TO:<{Julie}>\r\n");
        }
        await client.SendAsync(commands.ToString());
        var replies = await client.ReadLinesAsync(6 + 1 + 101);
        Assert.That(replies[7..107], Has.All.EqualTo("250 2.1.5 Recipient OK"));
        Assert.That(replies[107], Is.EqualTo("452 4.5.3 Too many recipients"));
    }

    [Test]
    public async Task ABareLfDotLineDoesNotEndTheMessage()
    {
        // "SMTP smuggling": only CRLF.CRLF ends the data, so no second message hides in the first.
        await using var client = await _lmtp.ConnectAsync();
        await client.SendAsync($"LHLO mx\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<{Julie}>\r\nDATA\r\n");
        Assert.That((await client.ReadLinesAsync(9))[^1], Does.StartWith("354 "));
        await client.SendAsync($"Subject: smuggle\r\n\r\nx\n.\nMAIL FROM:<evil@b.example>\r\nRCPT TO:<{Anna}>\r\n.\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith($"250 2.0.0 <{Julie}> "));
        Assert.That(_lmtp.Inbox(Julie).Single(m => m.Contains("Subject: smuggle", StringComparison.Ordinal)), Does.Contain("MAIL FROM:<evil@b.example>"));
        Assert.That(_lmtp.Inbox(Anna).Any(m => m.Contains("smuggle", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task AnIdleConnectionIsClosedWith421()
    {
        await using var client = await _lmtp.ConnectAsync();
        Assert.That(await client.ReadLineAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("421 4.4.2 Idle timeout, closing connection"));
        Assert.That(await client.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
    }

    [TestCase("99999999:domains x,")]
    [TestCase("1025:")]
    [TestCase("x:domains a,")]
    [TestCase("18:domains family.example;")]
    public async Task ASocketmapRequestThatIsNoNetstringWithinTheLimitGetsPermAndTheConnectionCloses(string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", _lmtp.SocketmapPort);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var reply = new byte[512];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await socket.ReceiveAsync(reply.AsMemory(read), timeout.Token) is var n && n > 0)
        {
            read += n;
        }
        Assert.That(Encoding.ASCII.GetString(reply, 0, read), Does.Match("^[0-9]+:PERM malformed request: .*,$"));
    }
}
