using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// SEARCH transcripts (RFC 3501 §6.4.4) over text as the reader sees it: transfer encodings and
/// charsets decoded, encoded-words in headers, addresses without their comments, sequence sets up
/// to 4294967295, and a 40 MiB message searched without the server holding it in memory.
/// </summary>
[TestFixture]
public sealed class SearchTextTests
{
    private const string Password = "search-pass 5";
    private RunningServer _server = null!;
    private int _next;

    /// <summary>1: quoted-printable ISO-8859-1 with a soft line break in the middle of a word.</summary>
    private const string QuotedPrintableLatin1 =
        "From: Anna <anna@family.example>\r\nSubject: =?ISO-8859-1?Q?Caf=E9?= meeting\r\nMIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
        "Treffen in D=FCsseldorf, dann in M=FCn=\r\nchen.\r\n";

    /// <summary>2: multipart/mixed holding a multipart/alternative with a base64 UTF-8 part, and a binary attachment.</summary>
    private const string NestedBase64 =
        "From: Bob <bob@x.example>\r\nSubject: nested\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n" +
        "--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n" +
        "--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        "R3LDvMOfZSBhdXMgS8O2bG4sINCf0YDQuNCy0LXRgiDQvNC40YAh\r\n" + // "Grüße aus Köln, Привет мир!"
        "--inner\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<p>html alternative, mislabelled: na\u00efve</p>\r\n" +
        "--inner--\r\n" +
        "--outer\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        "c2VjcmV0d29yZA==\r\n" + // "secretword", in a part that is not text
        "--outer--\r\n";

    /// <summary>3: a forwarded message (message/rfc822) whose header and quoted-printable UTF-8 body are part of the outer body.</summary>
    private const string AttachedMessage =
        "From: Carl <carl@x.example>\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
        "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
        "--b\r\nContent-Type: message/rfc822\r\n\r\n" +
        "From: dora@y.example\r\nSubject: =?UTF-8?Q?Gen=C3=A8ve?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
        "Gr=C3=BC=C3=9Fe aus Z=C3=BCrich\r\n" +
        "--b--\r\n";

    /// <summary>4: 8-bit ISO-8859-1, and addresses with comments inside them (RFC 5322 §4.4).</summary>
    private static readonly byte[] EightBitLatin1 = Encoding.Latin1.GetBytes(
        "From: <user-from (comment)@ (comment) domain.org>\r\nTo: team: \"Ève D.\" <eve@z.example>;\r\nSubject: plain\r\n" +
        "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÀ bientôt à Besançon\r\n");

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private async Task<ImapTestClient> MailboxWith(params byte[][] messages) => await Login(await NewMailbox(messages));

    private async Task<string> NewMailbox(params byte[][] messages)
    {
        var address = $"search{Interlocked.Increment(ref _next)}@family.example";
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
        foreach (var message in messages)
        {
            await ExternalClient.DeliverAsync(_server, address, message);
        }
        return address;
    }

    private async Task<ImapTestClient> Login(string address)
    {
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        Assert.That((await client.CommandAsync("s", "SELECT INBOX"))[^1], Does.StartWith("s OK"));
        return client;
    }

    private Task<ImapTestClient> FourMessages() => MailboxWith(
        Encoding.ASCII.GetBytes(QuotedPrintableLatin1), Encoding.UTF8.GetBytes(NestedBase64), Encoding.ASCII.GetBytes(AttachedMessage), EightBitLatin1);

    /// <summary>A LITERAL+ string: the key's UTF-8 bytes, as a client sends non-ASCII search text.</summary>
    private static string Literal(string text) => $"{{{Encoding.UTF8.GetByteCount(text)}+}}\r\n{text}";

    private static string[] Found(string tag, string numbers) => [numbers.Length == 0 ? "* SEARCH" : "* SEARCH " + numbers, $"{tag} OK SEARCH completed"];

    [TestCase("BODY dusseldorf", "")]
    [TestCase("BODY düsseldorf", "1")]
    [TestCase("BODY DÜSSELDORF", "1")]
    [TestCase("BODY München", "1")]
    [TestCase("BODY grüße", "2 3")]
    [TestCase("BODY köln", "2")]
    [TestCase("BODY ПРИВЕТ", "2")]
    [TestCase("BODY \"html alternative\"", "2")]
    [TestCase("BODY naïve", "2")]
    [TestCase("BODY secretword", "")]
    [TestCase("BODY zürich", "3")]
    [TestCase("BODY genève", "3")]
    [TestCase("BODY dora@y.example", "3")]
    [TestCase("BODY besançon", "4")]
    [TestCase("BODY \"à bientôt\"", "4")]
    [TestCase("BODY café", "")]
    [TestCase("TEXT café", "1")]
    [TestCase("SUBJECT CAFÉ", "1")]
    [TestCase("TEXT nested", "2")]
    [TestCase("BODY nested", "")]
    [TestCase("TEXT genève", "3")]
    [TestCase("SUBJECT genève", "")]
    public async Task BodyAndTextSearchDecodedText(string criteria, string expected)
    {
        await using var client = await FourMessages();
        var space = criteria.IndexOf(' ', StringComparison.Ordinal);
        var value = criteria[(space + 1)..];
        var key = value.All(char.IsAscii) ? criteria : criteria[..space] + " " + Literal(value.Trim('"'));
        Assert.That(await client.CommandAsync("a", "SEARCH CHARSET UTF-8 " + key), Is.EqualTo(Found("a", expected)));
    }

    [Test]
    public async Task ManyKeysAreAnsweredFromOneDecodingOfEachMessage()
    {
        await using var client = await FourMessages();
        Assert.That(await client.CommandAsync("a", "SEARCH OR BODY zürich BODY köln NOT TEXT secretword".Replace("zürich", Literal("zürich")).Replace("köln", Literal("köln"))),
            Is.EqualTo(Found("a", "2 3")));
        Assert.That(await client.CommandAsync("b", "SEARCH BODY munchen"), Is.EqualTo(Found("b", "")));
        Assert.That(await client.CommandAsync("c", "SEARCH BODY \"\""), Is.EqualTo(Found("c", "1 2 3 4")));
    }

    [Test]
    public async Task AddressKeysMatchParsedAddressesAndNames()
    {
        await using var client = await FourMessages();
        Assert.That(await client.CommandAsync("a", "SEARCH FROM user-from@domain.org"), Is.EqualTo(Found("a", "4")));
        Assert.That(await client.CommandAsync("b", "SEARCH FROM ser-from@dom"), Is.EqualTo(Found("b", "4")));
        Assert.That(await client.CommandAsync("c", "SEARCH FROM comment"), Is.EqualTo(Found("c", "4")), "the header as written counts too");
        Assert.That(await client.CommandAsync("d", "SEARCH TO team"), Is.EqualTo(Found("d", "4")));
        Assert.That(await client.CommandAsync("e", "SEARCH TO " + Literal("ève d.")), Is.EqualTo(Found("e", "4")));
        Assert.That(await client.CommandAsync("f", "SEARCH FROM anna@family.example"), Is.EqualTo(Found("f", "1")));
        Assert.That(await client.CommandAsync("g", "SEARCH CC anna"), Is.EqualTo(Found("g", "")));
    }

    [Test]
    public async Task TheLargestUidIsANumberNotAStar()
    {
        await using var client = await FourMessages();
        Assert.That(await client.CommandAsync("a", "UID SEARCH UID 1:4294967295"), Is.EqualTo(new[] { "* SEARCH 1 2 3 4", "a OK UID SEARCH completed" }));
        Assert.That(await client.CommandAsync("b", "UID SEARCH UID 5:4294967295"), Is.EqualTo(new[] { "* SEARCH", "b OK UID SEARCH completed" }));
        Assert.That(await client.CommandAsync("c", "UID SEARCH UID 4294967295"), Is.EqualTo(new[] { "* SEARCH", "c OK UID SEARCH completed" }));
        Assert.That(await client.CommandAsync("d", "UID SEARCH UID 5:*"), Is.EqualTo(new[] { "* SEARCH 4", "d OK UID SEARCH completed" }));
        Assert.That(await client.CommandAsync("e", "UID SEARCH UID 4294967296"), Is.EqualTo(new[] { "e BAD invalid sequence set number '4294967296'" }));
    }

    [Test]
    public async Task OnlyUtf8AndUsAsciiCharsetsAreSupported()
    {
        await using var client = await FourMessages();
        Assert.That(await client.CommandAsync("a", "SEARCH CHARSET US-ASCII BODY dann"), Is.EqualTo(Found("a", "1")));
        Assert.That(await client.CommandAsync("b", "SEARCH CHARSET ISO-8859-1 BODY dann"), Is.EqualTo(new[] { "b NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset" }));
    }

    /// <summary>
    /// SEARCH BODY streams the file through the decoder: a 40 MiB message (a base64 text part) must
    /// not grow the server's memory by its size, as reading it whole (bytes, then text) did.
    /// </summary>
    [Test]
    public async Task SearchingAFortyMegabyteMessageDoesNotLoadItIntoMemory()
    {
        var address = await NewMailbox();
        await using var client = await Login(address);
        Assert.That((await client.CommandAsync("c", "CREATE Big"))[^1], Is.EqualTo("c OK CREATE completed"));
        var directory = Path.Combine(_server.Cli.DataDirectory, "mail", "family.example", address.Split('@')[0], ".Big", "new");
        await File.WriteAllBytesAsync(Path.Combine(directory, "1700000000.M1P1.small"), Encoding.UTF8.GetBytes(NestedBase64));
        var size = WriteLargeMessage(Path.Combine(directory, "1700000001.M2P1.large"));
        Assert.That((await client.CommandAsync("s", "SELECT Big"))[^1], Does.StartWith("s OK"));
        // Warm up (MimeKit loaded, code compiled) on the small message alone.
        Assert.That(await client.CommandAsync("w", "SEARCH 1 BODY köln".Replace("köln", Literal("köln"))), Is.EqualTo(Found("w", "1")));
        var before = _server.ResidentMemoryMiB();
        Assert.That(await client.CommandAsync("a", "SEARCH BODY needle-at-the-end"), Is.EqualTo(Found("a", "2")));
        Assert.That(await client.CommandAsync("b", "SEARCH TEXT nowhere-at-all"), Is.EqualTo(Found("b", "")));
        Assert.That(await client.CommandAsync("f", "SEARCH FROM big@family.example SUBJECT large"), Is.EqualTo(Found("f", "2")));
        var after = _server.ResidentMemoryMiB();
        TestContext.Out.WriteLine($"server memory: {before:0.0} MiB before, {after:0.0} MiB after searching a {size / 1048576.0:0.0} MiB message");
        Assert.That(after - before, Is.LessThan(20), "the message is streamed, not read whole");
    }

    /// <summary>A message of a little more than 40 MiB: one base64 UTF-8 text part, the searched word at its very end.</summary>
    private static long WriteLargeMessage(string path)
    {
        using var file = new FileStream(path, FileMode.CreateNew);
        using var writer = new StreamWriter(file, Encoding.ASCII) { NewLine = "\r\n" };
        writer.Write("From: Big <big@family.example>\r\nSubject: large\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        // 57 bytes per line encode to 76 characters (RFC 2045 §6.8).
        var line = Convert.ToBase64String(Encoding.UTF8.GetBytes("the quick brown fox jumps over the lazy dog, 01234567890\n"));
        for (var written = 0L; written < 40L * 1024 * 1024; written += line.Length + 2)
        {
            writer.WriteLine(line);
        }
        writer.WriteLine(Convert.ToBase64String(Encoding.UTF8.GetBytes("needle-at-the-end\n")));
        writer.Flush();
        return file.Length;
    }
}
