using System.Text;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// FETCH of a 24 MiB message: every section is copied from the file to the connection in pieces,
/// so the server's resident memory does not grow by the message's size, and the bytes received
/// are the file's.
/// </summary>
[TestFixture]
public sealed partial class FetchStreamingTests
{
    private const string Address = "julie@family.example";
    private const string Password = "correct horse 42";
    private const int BodySize = 24 * 1024 * 1024;
    private const int Chunk = 1024 * 1024;

    private const string Header =
        "From: anna@family.example\r\nTo: julie@family.example\r\nSubject: large\r\n" +
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
        "--b1\r\nContent-Type: text/plain\r\n\r\nsmall part\r\n--b1\r\nContent-Type: application/octet-stream\r\n" +
        "Content-Transfer-Encoding: base64\r\n\r\n";

    private const string Trailer = "\r\n--b1--\r\n";

    private RunningServer _server = null!;
    private byte[] _message = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
        var body = new StringBuilder(BodySize + 100);
        var line = Convert.ToBase64String(Enumerable.Range(0, 57).Select(i => (byte)i).ToArray()) + "\r\n";
        while (body.Length < BodySize)
        {
            body.Append(line);
        }
        _message = Encoding.ASCII.GetBytes(Header + body + Trailer);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [TestCase("BODY.PEEK[]", "BODY[]")]
    [TestCase("BODY.PEEK[2]", "BODY[2]")]
    [TestCase("BODY.PEEK[TEXT]", "BODY[TEXT]")]
    [TestCase("BODY.PEEK[2]<1000.20000000>", "BODY[2]<1000>")]
    public async Task ALargeSectionIsStreamedFromTheFileWithItsExactBytes(string item, string echoed)
    {
        await using var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {Address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        var folder = "Large" + Guid.NewGuid().ToString("N")[..8];
        Assert.That((await client.CommandAsync("c", $"CREATE {folder}"))[^1], Is.EqualTo("c OK CREATE completed"));
        var directory = Path.Combine(_server.Cli.DataDirectory, "mail", "family.example", "julie", "." + folder, "new");
        await File.WriteAllBytesAsync(Path.Combine(directory, "1700000000.M1P1.large-fetch"), _message);
        Assert.That((await client.CommandAsync("s", $"SELECT {folder}"))[^1], Does.StartWith("s OK"));
        // The structure alone is parsed through a small window, not by reading the file whole.
        Assert.That((await client.CommandAsync("b", "FETCH 1 BODYSTRUCTURE"))[0], Does.Contain("(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" "));

        GC.Collect();
        var before = _server.ResidentMemoryMiB();
        var peak = before;
        await client.SendAsync($"f FETCH 1 ({item})\r\n");
        var first = await client.ReadLineAsync();
        var match = LiteralAnnouncement().Match(first);
        Assert.That(match.Success, Is.True, first);
        Assert.That(first, Does.StartWith($"* 1 FETCH ({echoed} {{"));
        var size = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var received = new MemoryStream();
        while (received.Length < size)
        {
            received.Write(await client.ReadBytesAsync((int)Math.Min(Chunk, size - received.Length)));
            peak = Math.Max(peak, _server.ResidentMemoryMiB());
        }
        Assert.That(await client.ReadLineAsync(), Is.EqualTo(")"));
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("f OK FETCH completed"));
        TestContext.Out.WriteLine($"server memory: {before:0.0} MiB before, {peak:0.0} MiB at most while sending {size} bytes");

        Assert.That(received.ToArray(), Is.EqualTo(Expected(echoed)), "the bytes received are the file's");
        Assert.That(peak - before, Is.LessThan(12), "a 24 MiB section costs a few buffers, not its size");
    }

    private byte[] Expected(string echoed)
    {
        var headerLength = Encoding.ASCII.GetByteCount(Header);
        var partEnd = _message.Length - Trailer.Length;
        var text = _message.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        return echoed switch
        {
            "BODY[]" => _message,
            "BODY[TEXT]" => _message[text..],
            "BODY[2]" => _message[headerLength..partEnd],
            _ => _message[(headerLength + 1000)..(headerLength + 1000 + 20_000_000)],
        };
    }

    [GeneratedRegex(@"\{(\d+)\}$")]
    private static partial Regex LiteralAnnouncement();
}
