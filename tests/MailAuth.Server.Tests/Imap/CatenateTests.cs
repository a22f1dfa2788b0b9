using System.Text;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Imap;

/// <summary>RFC 4469 CATENATE: a message put together from TEXT literals and URLs of the user's own messages (RFC 5092), [BADURL], [TOOBIG].</summary>
[TestFixture]
public sealed partial class CatenateTests
{
    private const string Address = "julie@family.example";
    private const string Password = "correct horse 42";

    /// <summary>RFC 4469 §6's boundary: its delimiter line is this with two more dashes.</summary>
    private const string Boundary = "------------030308070208000400050907";

    private const string Draft =
        "From: julie@family.example\r\nSubject: the draft\r\nMIME-Version: 1.0\r\n" +
        $"Content-Type: multipart/mixed; boundary=\"{Boundary}\"\r\n\r\n" +
        $"--{Boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee the forwarded message.\r\n" +
        $"--{Boundary}--\r\n";

    private const string Forwarded = "From: anna@family.example\r\nSubject: forward me\r\n\r\nThe forwarded text.\r\n";

    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Imap__MaxLiteralSize"] = "100000" });
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    /// <summary>A logged-in client and a new Drafts-like folder holding <see cref="Draft"/> (UID 1) and <see cref="Forwarded"/> (UID 2).</summary>
    private async Task<(ImapTestClient Client, string Folder, string Validity)> WithDraftsAsync()
    {
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {Address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        Assert.That((await client.CommandAsync("c", "CAPABILITY"))[0], Does.Contain(" CATENATE"));
        var folder = "Drafts" + Guid.NewGuid().ToString("N")[..8];
        Assert.That((await client.CommandAsync("c", $"CREATE {folder}"))[^1], Is.EqualTo("c OK CREATE completed"));
        var reply = await client.CommandAsync("a", $"APPEND {folder} {{{Draft.Length}+}}\r\n{Draft} {{{Forwarded.Length}+}}\r\n{Forwarded}");
        var match = AppendUid().Match(reply[^1]);
        Assert.That(match.Success, Is.True, reply[^1]);
        Assert.That(match.Groups[2].Value, Is.EqualTo("1:2"));
        return (client, folder, match.Groups[1].Value);
    }

    [Test]
    public async Task TheRfcExampleForwardsAMessageAsAPartOfTheDraft()
    {
        var (client, folder, validity) = await WithDraftsAsync();
        await using var connection = client;
        var url = $"/{folder};UIDVALIDITY={validity}/;UID=1";
        var between = $"\r\n--{Boundary}\r\n";
        var end = $"\r\n--{Boundary}--\r\n";
        await client.SendAsync($"A003 APPEND {folder} (\\Seen \\Draft $MDNSent) CATENATE (URL \"{url}/;section=HEADER\" TEXT {{{between.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync($"{between} URL \"{url}/;section=1.MIME\" URL \"{url}/;section=1\" TEXT {{{between.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync($"{between} URL \"/{folder};UIDVALIDITY={validity}/;UID=2\" TEXT {{{end.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync(end + ")\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo($"A003 OK [APPENDUID {validity} 3] APPEND completed"));

        var header = Draft[..(Draft.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)];
        var expected = header + between + "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + "See the forwarded message." + between + Forwarded + end;
        Assert.That((await client.CommandAsync("s", $"SELECT {folder}"))[^1], Does.StartWith("s OK"));
        await client.SendAsync("f UID FETCH 3 (FLAGS BODY.PEEK[])\r\n");
        var first = await client.ReadLineAsync();
        Assert.That(first, Does.Contain("\\Seen").And.Contain("\\Draft").And.EndWith($"BODY[] {{{expected.Length}}}"));
        Assert.That(Encoding.ASCII.GetString(await client.ReadBytesAsync(expected.Length)), Is.EqualTo(expected));
        Assert.That(await client.ReadUntilTaggedAsync("f"), Is.EqualTo(new[] { ")", "f OK UID FETCH completed" }));
        // The forwarded message's header is the second part's MIME header: without a Content-Type, text/plain.
        Assert.That((await client.CommandAsync("b", "UID FETCH 3 BODY"))[0], Is.EqualTo(
            "* 3 FETCH (UID 3 BODY ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 26 1)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 21 1) \"MIXED\"))"));
    }

    [TestCase("/{0};UIDVALIDITY=12345/;UID=1", TestName = "AnotherUidValidity")]
    [TestCase("/{0}/;UID=9", TestName = "AUidThatDoesNotExist")]
    [TestCase("/{0}/;UID=1/;SECTION=7", TestName = "APartThatDoesNotExist")]
    [TestCase("/{0}/;UID=1/;SECTION=BOGUS", TestName = "ASectionThatIsNoSection")]
    [TestCase("/NoSuchFolder/;UID=1", TestName = "AFolderThatDoesNotExist")]
    [TestCase("imap://anna@localhost/INBOX/;UID=1", TestName = "AnAbsoluteUrl")]
    [TestCase("/{0}/;UID=1/;URLAUTH=anonymous", TestName = "AnUrlauthUrl")]
    public async Task ABadUrlFailsTheAppendWithBadurl(string pattern)
    {
        var (client, folder, _) = await WithDraftsAsync();
        await using var connection = client;
        var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, pattern, folder);
        Assert.That(await client.CommandAsync("a", $"APPEND {folder} CATENATE (TEXT {{8+}}\r\nSubject: URL \"{url}\")"),
            Is.EqualTo(new[] { $"a NO [BADURL {url}] The URL does not name a message part of yours" }));
        Assert.That(await client.CommandAsync("s", $"STATUS {folder} (MESSAGES)"), Is.EqualTo(new[] { $"* STATUS {folder} (MESSAGES 2)", "s OK STATUS completed" }));
    }

    [Test]
    public async Task AMessageLargerThanTheLiteralLimitIsTooBig()
    {
        var (client, folder, _) = await WithDraftsAsync();
        await using var connection = client;
        var large = "Subject: large\r\n\r\n" + new string('x', 60_000);
        Assert.That((await client.CommandAsync("a", $"APPEND {folder} {{{large.Length}+}}\r\n{large}"))[^1], Does.StartWith("a OK [APPENDUID "));
        Assert.That(await client.CommandAsync("b", $"APPEND {folder} CATENATE (URL \"/{folder}/;UID=3\" URL \"/{folder}/;UID=3/;SECTION=TEXT\")"),
            Is.EqualTo(new[] { "b NO [TOOBIG] The message would be larger than the limit of 100000 bytes" }));
    }

    [Test]
    public async Task ToAFolderThatDoesNotExistItIsTrycreateBeforeAnyUrlIsLookedAt()
    {
        var (client, folder, _) = await WithDraftsAsync();
        await using var connection = client;
        Assert.That(await client.CommandAsync("a", $"APPEND {folder}-none CATENATE (URL \"/{folder};UIDVALIDITY=1/;UID=1\")"),
            Is.EqualTo(new[] { "a NO [TRYCREATE] No such folder" }));
    }

    [Test]
    public async Task WithMultiappendAndAPartialEachMessageIsBuiltAndAllAreAdded()
    {
        var (client, folder, validity) = await WithDraftsAsync();
        await using var connection = client;
        var reply = await client.CommandAsync("a",
            $"APPEND {folder} CATENATE (URL \"/{folder}/;UID=2/;SECTION=HEADER\" TEXT {{7+}}\r\nbody1\r\n) (\\Flagged) CATENATE (URL \"/{folder}/;UID=2/;PARTIAL=0.4\" TEXT {{12+}}\r\n: x\r\n\r\nbody2 URL \"/{folder}/;UID=2/;PARTIAL=100000.1\")");
        Assert.That(reply, Is.EqualTo(new[] { $"a OK [APPENDUID {validity} 3:4] APPEND completed" }));
        Assert.That((await client.CommandAsync("s", $"SELECT {folder}"))[^1], Does.StartWith("s OK"));
        Assert.That(await client.CommandAsync("f", "FETCH 3:4 BODY.PEEK[]"), Is.EqualTo(new[]
        {
            "* 3 FETCH (BODY[] {57}", "From: anna@family.example", "Subject: forward me", "", "body1", ")",
            "* 4 FETCH (BODY[] {16}", "From: x", "", "body2)",
            "f OK FETCH completed",
        }));
    }

    [Test]
    public async Task CatenateTakesNoLiteral8()
    {
        var (client, folder, _) = await WithDraftsAsync();
        await using var connection = client;
        Assert.That(await client.CommandAsync("a", $"APPEND {folder} CATENATE (TEXT ~{{3+}}\r\na\0b)"),
            Is.EqualTo(new[] { "a BAD a literal8 (~{n}) is only allowed for a message" }));
    }

    [GeneratedRegex(@"^a OK \[APPENDUID (\d+) ([\d:,]+)\] APPEND completed$")]
    private static partial Regex AppendUid();
}
