using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>RFC 3516 BINARY: FETCH BINARY[part]&lt;partial&gt;, BINARY.PEEK, BINARY.SIZE and APPEND of a literal8, as raw transcripts.</summary>
[TestFixture]
public sealed class BinaryTests
{
    private const string Address = "julie@family.example";
    private const string Password = "correct horse 42";

    private const string Message =
        "From: anna@family.example\r\nSubject: parts\r\nMIME-Version: 1.0\r\n" +
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
        "--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
        "caf=C3=A9 =\r\nau lait  \r\nend=3D\r\n" +
        "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        "AAECA2hp\r\n" +
        "--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n" +
        "--b1--\r\n";

    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    /// <summary>A new folder holding <see cref="Message"/>, selected.</summary>
    private async Task<ImapTestClient> SelectedAsync()
    {
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {Address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        var folder = "B" + Guid.NewGuid().ToString("N")[..8];
        Assert.That((await client.CommandAsync("c", $"CREATE {folder}"))[^1], Is.EqualTo("c OK CREATE completed"));
        var bytes = Encoding.ASCII.GetBytes(Message);
        await client.SendAsync($"a APPEND {folder} {{{bytes.Length}+}}\r\n");
        await client.SendAsync([.. bytes, .. "\r\n"u8.ToArray()]);
        Assert.That((await client.ReadUntilTaggedAsync("a"))[^1], Does.StartWith("a OK [APPENDUID "));
        Assert.That((await client.CommandAsync("s", $"SELECT {folder}"))[^1], Does.StartWith("s OK [READ-WRITE]"));
        return client;
    }

    [Test]
    public async Task BinaryIsAdvertisedAfterLogin()
    {
        await using var client = await SelectedAsync();
        Assert.That((await client.CommandAsync("c", "CAPABILITY"))[0], Does.Contain(" BINARY"));
    }

    [Test]
    public async Task QuotedPrintableIsDecodedWithSoftBreaksJoinedAndTrailingSpaceDropped()
    {
        await using var client = await SelectedAsync();
        Assert.That(await client.CommandAsync("f", "FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])"), Is.EqualTo(new[]
        {
            "* 1 FETCH (BINARY.SIZE[1] 19 BINARY[1] {19}",
            "café au lait",
            "end=)",
            "f OK FETCH completed",
        }));
    }

    [Test]
    public async Task Base64WithNulIsALiteral8AndAPartialTakesDecodedBytes()
    {
        await using var client = await SelectedAsync();
        await client.SendAsync("f FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* 1 FETCH (BINARY.SIZE[2] 6 BINARY[2] ~{6}"));
        Assert.That(await client.ReadBytesAsync(6), Is.EqualTo(new byte[] { 0, 1, 2, 3, (byte)'h', (byte)'i' }));
        Assert.That(await client.ReadUntilTaggedAsync("f"), Is.EqualTo(new[] { ")", "f OK FETCH completed" }));
        // The partial's bytes hold no NUL: a plain literal.
        Assert.That(await client.CommandAsync("g", "FETCH 1 (BINARY.PEEK[2]<4.10>)"), Is.EqualTo(new[] { "* 1 FETCH (BINARY[2]<4> {2}", "hi)", "g OK FETCH completed" }));
    }

    [Test]
    public async Task BinaryWithoutPeekSetsSeenAndBinarySizeDoesNot()
    {
        await using var client = await SelectedAsync();
        Assert.That(await client.CommandAsync("f", "FETCH 1 (BINARY.SIZE[2] FLAGS)"), Is.EqualTo(new[] { "* 1 FETCH (BINARY.SIZE[2] 6 FLAGS (\\Recent))", "f OK FETCH completed" }));
        var lines = await client.CommandAsync("g", "FETCH 1 BINARY[1]<0.4>");
        // The client reads text as UTF-8: the first byte of "é" alone is U+FFFD.
        Assert.That(lines, Is.EqualTo(new[] { "* 1 FETCH (BINARY[1]<0> {4}", "caf\uFFFD FLAGS (\\Seen \\Recent))", "g OK FETCH completed" }));
    }

    [Test]
    public async Task AnUnknownTransferEncodingFailsWithUnknownCte()
    {
        await using var client = await SelectedAsync();
        Assert.That(await client.CommandAsync("f", "FETCH 1 BINARY.PEEK[3]"), Is.EqualTo(new[] { "f NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding in message 1" }));
        Assert.That(await client.CommandAsync("g", "FETCH 1 BINARY.SIZE[3]"), Is.EqualTo(new[] { "g NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding in message 1" }));
        // The session goes on; a section with a BODY[] stays the encoded text.
        Assert.That(await client.CommandAsync("h", "FETCH 1 BODY.PEEK[3]"), Is.EqualTo(new[] { "* 1 FETCH (BODY[3] {11}", "begin 644 x)", "h OK FETCH completed" }));
    }

    [Test]
    public async Task ABinarySectionWithTextOrABadPartialIsASyntaxError()
    {
        await using var client = await SelectedAsync();
        Assert.That((await client.CommandAsync("f", "FETCH 1 BINARY[1.TEXT]"))[0], Does.StartWith("f BAD "));
        Assert.That((await client.CommandAsync("g", "FETCH 1 BINARY.SIZE[1]<0.5>"))[0], Does.StartWith("g BAD "));
    }

    [Test]
    public async Task AppendTakesALiteral8WithNulBytes()
    {
        await using var client = await SelectedAsync();
        byte[] message = [.. "Subject: raw\r\nContent-Transfer-Encoding: binary\r\n\r\n"u8.ToArray(), 0, 0xE4, (byte)'x'];
        await client.SendAsync($"a APPEND INBOX ~{{{message.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync([.. message, .. "\r\n"u8.ToArray()]);
        Assert.That((await client.ReadUntilTaggedAsync("a"))[^1], Does.StartWith("a OK [APPENDUID "));
        Assert.That((await client.CommandAsync("e", "EXAMINE INBOX"))[^1], Does.StartWith("e OK"));
        await client.SendAsync("f FETCH * (BINARY.SIZE[1] BINARY.PEEK[1])\r\n");
        Assert.That(await client.ReadLineAsync(), Does.EndWith(" FETCH (BINARY.SIZE[1] 3 BINARY[1] ~{3}"));
        Assert.That(await client.ReadBytesAsync(3), Is.EqualTo(new byte[] { 0, 0xE4, (byte)'x' }));
        Assert.That(await client.ReadUntilTaggedAsync("f"), Is.EqualTo(new[] { ")", "f OK FETCH completed" }));
        // No NUL may go in a BODY[] literal: the binary part was stored as base64 (RFC 3516 §4.4).
        var stored = await client.CommandAsync("g", "FETCH * (BODY.PEEK[1] BODY.PEEK[HEADER])");
        Assert.That(stored[0], Does.EndWith(" FETCH (BODY[1] {4}"));
        Assert.That(stored[1..^1], Is.EqualTo(new[] { "AOR4 BODY[HEADER] {51}", "Subject: raw", "Content-Transfer-Encoding: base64", "", ")" }));
    }

    [Test]
    public async Task ALiteral8IsRefusedWhereAStringIsExpected()
    {
        await using var client = await SelectedAsync();
        Assert.That(await client.CommandAsync("c", "CREATE ~{1+}\r\nx"), Is.EqualTo(new[] { "c BAD a literal8 (~{n}) is only allowed for a message" }));
    }
}
