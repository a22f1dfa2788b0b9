using System.Net.Sockets;
using System.Text;
using MailAuth.Server.Tests.Lmtp;
using static MailAuth.Server.Tests.Lmtp.LmtpServer;

namespace MailAuth.Server.Tests.Socketmap;

/// <summary>Raw socketmap requests (socketmap_table(5)) on one connection, as Postfix sends them, against the real server.</summary>
[TestFixture]
public sealed class SocketmapTranscriptTests
{
    private LmtpServer _lmtp = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _lmtp = await LmtpServer.StartAsync();
        Assert.That((await _lmtp.Server.Cli.RunAsync("domain", "add", "bücher.example")).ExitCode, Is.Zero);
        Assert.That((await _lmtp.Server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", "jürgen@bücher.example")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task Stop() => await _lmtp.DisposeAsync();

    [TestCase("domains family.example", "OK family.example")]
    [TestCase("domains FAMILY.Example", "OK family.example")]
    [TestCase("domains BÜCHER.example", "OK xn--bcher-kva.example")]
    [TestCase("domains xn--bcher-kva.example", "OK xn--bcher-kva.example")]
    [TestCase("domains elsewhere.example", "NOTFOUND ")]
    [TestCase("domains not a domain", "NOTFOUND ")]
    [TestCase("mailboxes julie@family.example", "OK julie@family.example")]
    [TestCase("mailboxes Julie@FAMILY.example", "OK julie@family.example")]
    [TestCase("mailboxes JÜRGEN@bücher.example", "OK jürgen@xn--bcher-kva.example")]
    [TestCase("mailboxes nobody@family.example", "NOTFOUND ")]
    [TestCase("mailboxes bob@family.example", "NOTFOUND ")]
    [TestCase("mailboxes @family.example", "NOTFOUND ")]
    [TestCase("mailboxes julie", "NOTFOUND ")]
    [TestCase("senders JULIE@family.example", "OK julie@family.example")]
    [TestCase("senders bob@family.example", "OK bob@family.example")]
    [TestCase("senders nobody@family.example", "NOTFOUND ")]
    [TestCase("senders julie@elsewhere.example", "NOTFOUND ")]
    [TestCase("aliases julie@family.example", "PERM unknown map name aliases")]
    [TestCase("domains", "PERM malformed request: expected 'name key'")]
    public async Task EachRequestGetsExactlyOneOfTheProtocolsAnswers(string request, string reply)
    {
        Assert.That(await AskAsync(request), Is.EqualTo(new[] { reply }));
    }

    [Test]
    public async Task RequestsSentTogetherOnOneConnectionAreAnsweredInOrder()
    {
        Assert.That(await AskAsync("domains family.example", "mailboxes nobody@family.example", "senders anna@family.example"),
            Is.EqualTo(new[] { "OK family.example", "NOTFOUND ", "OK anna@family.example" }));
    }

    /// <summary>Sends every request as a netstring in one write, reads as many netstring replies.</summary>
    private async Task<List<string>> AskAsync(params string[] requests)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", _lmtp.SocketmapPort);
        await socket.SendAsync(Encoding.UTF8.GetBytes(string.Concat(requests.Select(r => $"{Encoding.UTF8.GetByteCount(r)}:{r},"))));
        await using var stream = new NetworkStream(socket);
        var replies = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var one = new byte[1];
        while (replies.Count < requests.Length)
        {
            var length = 0;
            while (await stream.ReadAsync(one, timeout.Token) == 1 && one[0] != ':')
            {
                length = length * 10 + (one[0] - '0');
            }
            var payload = new byte[length + 1];
            await stream.ReadExactlyAsync(payload, timeout.Token);
            Assert.That(payload[^1], Is.EqualTo((byte)','));
            replies.Add(Encoding.UTF8.GetString(payload, 0, length));
        }
        return replies;
    }
}
