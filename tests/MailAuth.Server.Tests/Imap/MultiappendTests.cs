using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>RFC 3502 MULTIAPPEND: several messages in one APPEND, all kept or none, APPENDUID with the set of their UIDs.</summary>
[TestFixture]
public sealed class MultiappendTests
{
    private const string Address = "julie@family.example";
    private const string Password = "correct horse 42";

    // RFC 3502 §6.3.11's example messages.
    private const string First =
        "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n" +
        "From: Fred Foobar <foobar@Blurdybloop.example.COM>\r\n" +
        "Subject: afternoon meeting\r\n" +
        "To: mooch@owatagu.example.net\r\n" +
        "Message-Id: <B27397-0100000@Blurdybloop.example.COM>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n" +
        "\r\n" +
        "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

    private const string Second =
        "Date: Mon, 7 Feb 1994 22:43:04 -0800 (PST)\r\n" +
        "From: Joe Mooch <mooch@OWaTaGu.example.net>\r\n" +
        "Subject: Re: afternoon meeting\r\n" +
        "To: foobar@blurdybloop.example.com\r\n" +
        "Message-Id: <a0434793874930@OWaTaGu.example.net>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n" +
        "\r\n" +
        "3:30 is fine with me.\r\n";

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

    private async Task<(ImapTestClient Client, string Folder)> LoggedInWithFolderAsync()
    {
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {Address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        Assert.That((await client.CommandAsync("c", "CAPABILITY"))[0], Does.Contain(" MULTIAPPEND"));
        var folder = "saved-" + Guid.NewGuid().ToString("N")[..8];
        Assert.That((await client.CommandAsync("c", $"CREATE {folder}"))[^1], Is.EqualTo("c OK CREATE completed"));
        return (client, folder);
    }

    [Test]
    public async Task TheRfcExampleAppendsBothMessagesWithTheirFlagsAndDates()
    {
        var (client, folder) = await LoggedInWithFolderAsync();
        await using var _ = client;
        await client.SendAsync($"A003 APPEND {folder} (\\Seen) {{{First.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync(First + $" (\\Seen) \" 7-Feb-1994 22:43:04 -0800\" {{{Second.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync(Second + "\r\n");
        var reply = await client.ReadLineAsync();
        Assert.That(reply, Does.Match(@"^A003 OK \[APPENDUID \d+ 1:2\] APPEND completed$"));

        Assert.That((await client.CommandAsync("s", $"SELECT {folder}"))[^1], Does.StartWith("s OK"));
        var fetched = await client.CommandAsync("f", "FETCH 1:2 (FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
        Assert.That(fetched, Is.EqualTo(new[]
        {
            // RFC 3502's sizes: 329 and 295 octets.
            "* 1 FETCH (FLAGS (\\Seen \\Recent) RFC822.SIZE 329 BODY[HEADER.FIELDS (SUBJECT)] {30}",
            "Subject: afternoon meeting",
            "",
            ")",
            "* 2 FETCH (FLAGS (\\Seen \\Recent) RFC822.SIZE 295 BODY[HEADER.FIELDS (SUBJECT)] {34}",
            "Subject: Re: afternoon meeting",
            "",
            ")",
            "f OK FETCH completed",
        }));
        Assert.That(await client.CommandAsync("d", "FETCH 2 INTERNALDATE"), Is.EqualTo(new[] { "* 2 FETCH (INTERNALDATE \"08-Feb-1994 06:43:04 +0000\")", "d OK FETCH completed" }));
    }

    [Test]
    public async Task ToAFolderThatDoesNotExistItIsNoTrycreate()
    {
        var (client, _) = await LoggedInWithFolderAsync();
        await using var connection = client;
        Assert.That(await client.CommandAsync("A004", $"APPEND bogusname (\\Flagged) {{{First.Length}+}}\r\n{First} {{{Second.Length}+}}\r\n{Second}"),
            Is.EqualTo(new[] { "A004 NO [TRYCREATE] No such folder" }));
    }

    [Test]
    public async Task WhenOneMessageFailsNoneIsKept()
    {
        var (client, folder) = await LoggedInWithFolderAsync();
        await using var _ = client;
        // The second message is a CATENATE of a message that does not exist: the first is not kept either.
        var reply = await client.CommandAsync("a", $"APPEND {folder} {{{First.Length}+}}\r\n{First} CATENATE (URL \"/{folder}/;UID=99\")");
        Assert.That(reply, Is.EqualTo(new[] { $"a NO [BADURL /{folder}/;UID=99] The URL does not name a message part of yours" }));
        Assert.That(await client.CommandAsync("s", $"STATUS {folder} (MESSAGES UIDNEXT)"), Is.EqualTo(new[] { $"* STATUS {folder} (MESSAGES 0 UIDNEXT 1)", "s OK STATUS completed" }));
    }

    [Test]
    public async Task ManySmallMessagesBeyondTheCommandsMemoryBudgetAreAccepted()
    {
        var (client, folder) = await LoggedInWithFolderAsync();
        await using var _ = client;
        // 12 messages of 8 KiB: more than the 64 KiB one command may hold in memory, so the later ones go to files.
        var body = new string('x', 8 * 1024 - 20);
        var command = new StringBuilder($"APPEND {folder}");
        for (var i = 0; i < 12; i++)
        {
            var message = $"Subject: {i,4}\r\n\r\n{body}";
            command.Append($" {{{message.Length}+}}\r\n{message}");
        }
        var reply = await client.CommandAsync("a", command.ToString());
        Assert.That(reply[^1], Does.Match(@"^a OK \[APPENDUID \d+ 1:12\] APPEND completed$"));
        Assert.That(await client.CommandAsync("s", $"STATUS {folder} (MESSAGES)"), Is.EqualTo(new[] { $"* STATUS {folder} (MESSAGES 12)", "s OK STATUS completed" }));
    }

    [Test]
    public async Task TheLiteralsOfOneCommandTogetherAreHeldToTheLiteralLimitBeforeTheyAreRead()
    {
        var (client, folder) = await LoggedInWithFolderAsync();
        await using var _ = client;
        var message = "Subject: big\r\n\r\n" + new string('x', 60_000);
        await client.SendAsync($"a APPEND {folder} {{{message.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync(message + $" {{{message.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a NO [TOOBIG] The literals of one command are larger than the limit of 100000 bytes together"));
        Assert.That(await client.CommandAsync("s", $"STATUS {folder} (MESSAGES)"), Is.EqualTo(new[] { $"* STATUS {folder} (MESSAGES 0)", "s OK STATUS completed" }));
    }
}
