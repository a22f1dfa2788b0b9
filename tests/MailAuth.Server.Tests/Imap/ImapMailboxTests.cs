using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>Transcripts of the mailbox commands over Maildir, and of two sessions on one mailbox.</summary>
[TestFixture]
public sealed class ImapMailboxTests
{
    private const string Password = "mailbox-pass 5";
    private RunningServer _server = null!;
    private int _next;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    /// <summary>A fresh mailbox for each test, with <paramref name="messages"/> delivered into INBOX.</summary>
    private async Task<string> NewMailbox(params string[] messages)
    {
        var address = $"user{Interlocked.Increment(ref _next)}@family.example";
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
        foreach (var message in messages)
        {
            await ExternalClient.DeliverAsync(_server, address, Encoding.UTF8.GetBytes(message));
        }
        return address;
    }

    private async Task<ImapTestClient> Login(string address, string? select = "INBOX")
    {
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        if (select is not null)
        {
            Assert.That((await client.CommandAsync("s", $"SELECT {select}"))[^1], Is.EqualTo("s OK [READ-WRITE] SELECT completed"));
        }
        return client;
    }

    private static string Message(string subject, string body = "text") =>
        $"From: Anna <anna@family.example>\r\nTo: julie@family.example\r\nSubject: {subject}\r\nDate: Mon, 3 Mar 2025 09:00:00 +0100\r\n\r\n{body}\r\n";

    /// <summary>RFC 2971 §3.3 allows 30 pairs of a 30-octet field and a 1024-octet value; imaptest's "id" test sends that before login.</summary>
    [Test]
    public async Task TheLargestIdRfc2971AllowsIsAnsweredBeforeLogin()
    {
        await using var client = await ImapTestClient.ConnectAsync(_server);
        var pairs = Enumerable.Range(0, 30).Select(i => $"\"{i:D2}{new string('f', 28)}\" \"{new string('v', 1024)}\"");
        Assert.That(await client.CommandAsync("a", $"ID ({string.Join(' ', pairs)})"), Is.EqualTo(new[] { "* ID (\"name\" \"MailAuth\")", "a OK ID completed" }));
    }

    [Test]
    public async Task EveryConnectionAClientOpensAtOnceOnANewMailboxLogsIn()
    {
        var address = await NewMailbox();
        // Thunderbird and Apple Mail open several connections together right after an account is added.
        var clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Login(address, select: null)));
        try
        {
            Assert.That(await clients[0].CommandAsync("l", "LSUB \"\" *"), Is.EqualTo(new[]
            {
                "* LSUB (\\HasNoChildren) \".\" INBOX",
                "* LSUB (\\HasNoChildren \\Archive) \".\" Archive",
                "* LSUB (\\HasNoChildren \\Drafts) \".\" Drafts",
                "* LSUB (\\HasNoChildren \\Junk) \".\" Junk",
                "* LSUB (\\HasNoChildren \\Sent) \".\" Sent",
                "* LSUB (\\HasNoChildren \\Trash) \".\" Trash",
                "l OK LSUB completed",
            }));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task SelectReportsCountsFlagsAndUids()
    {
        var address = await NewMailbox(Message("a"), Message("b"));
        await using var client = await Login(address, select: null);
        var lines = await client.CommandAsync("a", "SELECT INBOX");
        Assert.That(lines, Has.Count.EqualTo(9));
        Assert.That(lines[0], Is.EqualTo("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"));
        Assert.That(lines[1], Is.EqualTo("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted"));
        Assert.That(lines[2..5], Is.EqualTo(new[] { "* 2 EXISTS", "* 2 RECENT", "* OK [UNSEEN 1] First unseen message" }));
        Assert.That(lines[5], Does.Match(@"^\* OK \[UIDVALIDITY \d+\] UIDs valid$"));
        Assert.That(lines[6..], Is.EqualTo(new[] { "* OK [UIDNEXT 3] Predicted next UID", "* OK [HIGHESTMODSEQ 2] Highest mod-sequence", "a OK [READ-WRITE] SELECT completed" }));
        Assert.That(await client.CommandAsync("b", "SELECT Nowhere"), Is.EqualTo(new[] { "* OK [CLOSED] Previous folder closed", "b NO [NONEXISTENT] No such folder" }));
        Assert.That(await client.CommandAsync("c", "FETCH 1 FLAGS"), Is.EqualTo(new[] { "c BAD FETCH is not allowed without a selected folder" }), "a failed SELECT deselects");
    }

    [Test]
    public async Task FetchItemsPartialsAndSeen()
    {
        var address = await NewMailbox(Message("hello", "0123456789"));
        await using var client = await Login(address);
        Assert.That(await client.CommandAsync("a", "FETCH 1 (UID RFC822.SIZE FLAGS)"), Is.EqualTo(new[] { "* 1 FETCH (UID 1 RFC822.SIZE 128 FLAGS (\\Recent))", "a OK FETCH completed" }));
        Assert.That(await client.CommandAsync("b", "FETCH 1 BODY.PEEK[TEXT]<2.3>"), Is.EqualTo(new[] { "* 1 FETCH (BODY[TEXT]<2> {3}", "234)", "b OK FETCH completed" }));
        Assert.That(await client.CommandAsync("c", "FETCH 1 BODY[TEXT]<100.3>"), Is.EqualTo(new[] { "* 1 FETCH (BODY[TEXT]<100> {0}", " FLAGS (\\Seen \\Recent))", "c OK FETCH completed" }));
        Assert.That(await client.CommandAsync("d", "FETCH 1 (BODYSTRUCTURE ENVELOPE)"), Is.EqualTo(new[]
        {
            "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL NIL) " +
            "ENVELOPE (\"Mon, 3 Mar 2025 09:00:00 +0100\" \"hello\" ((\"Anna\" NIL \"anna\" \"family.example\")) ((\"Anna\" NIL \"anna\" \"family.example\")) " +
            "((\"Anna\" NIL \"anna\" \"family.example\")) ((NIL NIL \"julie\" \"family.example\")) NIL NIL NIL NIL))",
            "d OK FETCH completed",
        }));
        Assert.That(await client.CommandAsync("e", "UID FETCH 1:* (FLAGS)"), Is.EqualTo(new[] { "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))", "e OK UID FETCH completed" }));
        Assert.That(await client.CommandAsync("f", "FETCH 2 FLAGS"), Is.EqualTo(new[] { "f BAD invalid message sequence number 2: the folder has 1 messages" }));
        Assert.That(await client.CommandAsync("g", "UID FETCH 99 FLAGS"), Is.EqualTo(new[] { "g OK UID FETCH completed" }));
        Assert.That(await client.CommandAsync("h", "UID FETCH 1 (RFC822.SIZE BODY.PEEK[]<6.4>)"), Is.EqualTo(new[] { "* 1 FETCH (UID 1 RFC822.SIZE 128 BODY[]<6> {4}", "Anna)", "h OK UID FETCH completed" }));
        Assert.That(await client.CommandAsync("i", "FETCH 1 (RFC822.HEADER)"), Is.EqualTo(new[]
        {
            "* 1 FETCH (RFC822.HEADER {116}", "From: Anna <anna@family.example>", "To: julie@family.example", "Subject: hello", "Date: Mon, 3 Mar 2025 09:00:00 +0100", "", ")", "i OK FETCH completed",
        }));
        Assert.That(await client.CommandAsync("j", "FETCH 1 (BODY[1] BODY[1.MIME])"), Is.EqualTo(new[] { "* 1 FETCH (BODY[1] {12}", "0123456789", " BODY[1.MIME] {116}", "From: Anna <anna@family.example>", "To: julie@family.example", "Subject: hello", "Date: Mon, 3 Mar 2025 09:00:00 +0100", "", ")", "j OK FETCH completed" }));
    }

    [Test]
    public async Task ExamineIsReadOnlyAndDoesNotSetSeen()
    {
        var address = await NewMailbox(Message("x"));
        await using var client = await Login(address, select: null);
        Assert.That((await client.CommandAsync("a", "EXAMINE INBOX"))[^1], Is.EqualTo("a OK [READ-ONLY] EXAMINE completed"));
        Assert.That(await client.CommandAsync("b", "FETCH 1 BODY[HEADER.FIELDS (SUBJECT)]"), Is.EqualTo(new[] { "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {14}", "Subject: x", "", ")", "b OK FETCH completed" }));
        Assert.That(await client.CommandAsync("c", "STORE 1 +FLAGS (\\Seen)"), Is.EqualTo(new[] { "c NO [READ-ONLY] The folder is open read-only (EXAMINE)" }));
        Assert.That(await client.CommandAsync("d", "FETCH 1 FLAGS"), Is.EqualTo(new[] { "* 1 FETCH (FLAGS (\\Recent))", "d OK FETCH completed" }));
    }

    [Test]
    public async Task StoreVariantsAndSearch()
    {
        var address = await NewMailbox(Message("report Q1", "numbers"), Message("lunch", "pizza"), Message("report Q2", "more numbers"));
        await using var client = await Login(address);
        Assert.That(await client.CommandAsync("a", "STORE 1:2 +FLAGS (\\Seen \\Flagged)"), Is.EqualTo(new[]
        {
            "* 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))", "* 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent))", "a OK STORE completed",
        }));
        Assert.That(await client.CommandAsync("b", "STORE 2 -FLAGS.SILENT (\\Flagged)"), Is.EqualTo(new[] { "b OK STORE completed" }));
        Assert.That(await client.CommandAsync("c", "UID STORE 3 FLAGS (\\Answered $Custom)"), Is.EqualTo(new[]
        {
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Custom)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Custom \\*)] Flags permitted",
            "* 3 FETCH (FLAGS (\\Answered \\Recent $Custom) UID 3)",
            "c OK UID STORE completed",
        }));
        Assert.That(await client.CommandAsync("d", "SEARCH FLAGGED"), Is.EqualTo(new[] { "* SEARCH 1", "d OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("e", "SEARCH UNSEEN"), Is.EqualTo(new[] { "* SEARCH 3", "e OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("f", "SEARCH SUBJECT report NOT ANSWERED"), Is.EqualTo(new[] { "* SEARCH 1", "f OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("g", "UID SEARCH OR BODY pizza TEXT \"more numbers\""), Is.EqualTo(new[] { "* SEARCH 2 3", "g OK UID SEARCH completed" }));
        Assert.That(await client.CommandAsync("h", "SEARCH SENTON 3-Mar-2025 LARGER 100 SMALLER 1000 FROM anna HEADER To julie"), Is.EqualTo(new[] { "* SEARCH 1 2 3", "h OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("i", "SEARCH SINCE 1-Jan-2000 BEFORE 1-Jan-2100 2:3 UID 1:2"), Is.EqualTo(new[] { "* SEARCH 2", "i OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("j", "SEARCH SENTBEFORE 1-Jan-2020"), Is.EqualTo(new[] { "* SEARCH", "j OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("k", "SEARCH CHARSET KOI8-R ALL"), Is.EqualTo(new[] { "k NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset" }));
        Assert.That(await client.CommandAsync("l", "SEARCH CHARSET UTF-8 KEYWORD $Custom"), Is.EqualTo(new[] { "* SEARCH 3", "l OK SEARCH completed" }));
    }

    [Test]
    public async Task CopyMoveAndExpungeAnswerWithUidplusCodes()
    {
        var address = await NewMailbox(Message("1"), Message("2"), Message("3"));
        await using var client = await Login(address);
        var copy = await client.CommandAsync("a", "COPY 1:2 Trash");
        Assert.That(copy[^1], Does.Match(@"^a OK \[COPYUID \d+ 1:2 1:2\] COPY completed$"));
        var move = await client.CommandAsync("b", "UID MOVE 2 Kept");
        Assert.That(move, Is.EqualTo(new[] { "b NO [TRYCREATE] No such folder" }));
        Assert.That(await client.CommandAsync("c", "CREATE Kept"), Is.EqualTo(new[] { "c OK CREATE completed" }));
        move = await client.CommandAsync("d", "UID MOVE 2 Kept");
        Assert.That(move, Has.Count.EqualTo(3));
        Assert.That(move[0], Does.Match(@"^\* OK \[COPYUID \d+ 2 1\] Moved$"));
        Assert.That(move[1..], Is.EqualTo(new[] { "* 2 EXPUNGE", "d OK UID MOVE completed" }));
        Assert.That(await client.CommandAsync("e", "STORE 1:2 +FLAGS.SILENT (\\Deleted)"), Is.EqualTo(new[] { "e OK STORE completed" }));
        Assert.That(await client.CommandAsync("f", "UID EXPUNGE 3"), Is.EqualTo(new[] { "* 2 EXPUNGE", "f OK UID EXPUNGE completed" }));
        Assert.That(await client.CommandAsync("g", "EXPUNGE"), Is.EqualTo(new[] { "* 1 EXPUNGE", "g OK EXPUNGE completed" }));
        Assert.That(await client.CommandAsync("h", "STATUS Trash (MESSAGES UIDNEXT UNSEEN)"), Is.EqualTo(new[] { "* STATUS Trash (MESSAGES 2 UIDNEXT 3 UNSEEN 2)", "h OK STATUS completed" }));
        Assert.That(await client.CommandAsync("i", "STATUS INBOX (MESSAGES)"), Is.EqualTo(new[] { "* STATUS INBOX (MESSAGES 0)", "i OK STATUS completed" }));
    }

    [Test]
    public async Task AppendWithFlagsDateAndLiteralPlus()
    {
        var address = await NewMailbox();
        await using var client = await Login(address);
        var body = "Subject: appended\r\n\r\nhello\r\n";
        await client.SendAsync($"a APPEND INBOX (\\Seen \\Draft) \"05-Mar-2024 10:00:00 +0100\" {{{body.Length}+}}\r\n{body}\r\n");
        var lines = await client.ReadUntilTaggedAsync("a");
        Assert.That(lines[0..2], Is.EqualTo(new[] { "* 1 EXISTS", "* 1 RECENT" }));
        Assert.That(lines[2], Does.Match(@"^a OK \[APPENDUID \d+ 1\] APPEND completed$"));
        Assert.That(await client.CommandAsync("b", "FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])"), Is.EqualTo(new[]
        {
            "* 1 FETCH (FLAGS (\\Seen \\Draft \\Recent) INTERNALDATE \"05-Mar-2024 09:00:00 +0000\" BODY[] {28}", "Subject: appended", "", "hello", ")", "b OK FETCH completed",
        }));
        await client.SendAsync("c APPEND Nowhere {5}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync("hello\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("c NO [TRYCREATE] No such folder"));
        Assert.That(Directory.GetFiles(Path.Combine(_server.Cli.DataDirectory, "mail", "family.example", address.Split('@')[0], "tmp")), Is.Empty);
    }

    [Test]
    public async Task LargeAppendStreamsThroughAFileAndFetchesBackIdentical()
    {
        var address = await NewMailbox();
        await using var client = await Login(address);
        var text = new StringBuilder("Subject: big\r\n\r\n");
        for (var i = 0; text.Length < 300_000; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"line {i} of a large message\r\n");
        }
        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        await client.SendAsync($"a APPEND Sent {{{bytes.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync([.. bytes, .. "\r\n"u8.ToArray()]);
        Assert.That(await client.ReadLineAsync(), Does.Match(@"^a OK \[APPENDUID \d+ 1\] APPEND completed$"));
        Assert.That((await client.CommandAsync("b", "SELECT Sent"))[^1], Does.EndWith("SELECT completed"));
        await client.SendAsync("c FETCH 1 BODY.PEEK[]\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo($"* 1 FETCH (BODY[] {{{bytes.Length}}}"));
        Assert.That(await client.ReadBytesAsync(bytes.Length), Is.EqualTo(bytes));
        Assert.That(await client.ReadLineAsync(), Is.EqualTo(")"));
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("c OK FETCH completed"));
    }

    [Test]
    public async Task FolderManagementListLsubAndPatterns()
    {
        var address = await NewMailbox();
        await using var client = await Login(address, select: null);
        Assert.That(await client.CommandAsync("a", "CREATE Projects.Alpha"), Is.EqualTo(new[] { "a OK CREATE completed" }));
        Assert.That(await client.CommandAsync("b", "CREATE Projects"), Is.EqualTo(new[] { "b NO [ALREADYEXISTS] Folder already exists" }));
        Assert.That(await client.CommandAsync("c", "CREATE \"bad/name\""), Is.EqualTo(new[] { "c NO [CANNOT] folder names cannot contain / \\ % * or control characters" }));
        Assert.That(await client.CommandAsync("d", "LIST \"\" %"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren) \".\" INBOX",
            "* LIST (\\HasNoChildren \\Archive) \".\" Archive",
            "* LIST (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LIST (\\HasNoChildren \\Junk) \".\" Junk",
            "* LIST (\\HasChildren) \".\" Projects",
            "* LIST (\\HasNoChildren \\Sent) \".\" Sent",
            "* LIST (\\HasNoChildren \\Trash) \".\" Trash",
            "d OK LIST completed",
        }));
        Assert.That(await client.CommandAsync("e", "LIST Projects. *"), Is.EqualTo(new[] { "* LIST (\\HasNoChildren) \".\" Projects.Alpha", "e OK LIST completed" }));
        Assert.That(await client.CommandAsync("f", "LIST \"\" inbox"), Is.EqualTo(new[] { "* LIST (\\HasNoChildren) \".\" INBOX", "f OK LIST completed" }));
        Assert.That(await client.CommandAsync("g", "DELETE Projects"), Is.EqualTo(new[] { "g NO [INUSE] Delete the sub-folders first" }));
        Assert.That(await client.CommandAsync("h", "RENAME Projects Done"), Is.EqualTo(new[] { "h OK RENAME completed" }));
        Assert.That(await client.CommandAsync("i", "LIST \"\" Done*"), Is.EqualTo(new[] { "* LIST (\\HasChildren) \".\" Done", "* LIST (\\HasNoChildren) \".\" Done.Alpha", "i OK LIST completed" }));
        Assert.That(await client.CommandAsync("j", "SUBSCRIBE Done.Alpha"), Is.EqualTo(new[] { "j OK SUBSCRIBE completed" }));
        Assert.That(await client.CommandAsync("k", "UNSUBSCRIBE Junk"), Is.EqualTo(new[] { "k OK UNSUBSCRIBE completed" }));
        Assert.That(await client.CommandAsync("l", "LSUB \"\" *"), Is.EqualTo(new[]
        {
            "* LSUB (\\HasNoChildren) \".\" INBOX",
            "* LSUB (\\HasNoChildren \\Archive) \".\" Archive",
            "* LSUB (\\HasNoChildren) \".\" Done.Alpha",
            "* LSUB (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LSUB (\\HasNoChildren \\Sent) \".\" Sent",
            "* LSUB (\\HasNoChildren \\Trash) \".\" Trash",
            "l OK LSUB completed",
        }));
        Assert.That(await client.CommandAsync("m", "DELETE Done.Alpha"), Is.EqualTo(new[] { "m OK DELETE completed" }));
        Assert.That(await client.CommandAsync("n", "DELETE INBOX"), Is.EqualTo(new[] { "n NO [CANNOT] INBOX cannot be deleted" }));
        Assert.That(await client.CommandAsync("o", "RENAME INBOX Old"), Is.EqualTo(new[] { "o NO [CANNOT] Renaming INBOX is not supported; move the messages instead" }));
    }

    [Test]
    public async Task FolderNamesCannotReachAnotherMailbox()
    {
        var victim = await NewMailbox(Message("secret"));
        var address = await NewMailbox();
        await using var client = await Login(address, select: null);
        var local = victim.Split('@')[0];
        foreach (var name in new[] { $"\"/../../{local}\"", $"\"./../{local}\"", $"\"/../../../family.example/{local}\"" })
        {
            Assert.That(await client.CommandAsync("a", $"SELECT {name}"), Is.EqualTo(new[] { "a NO [NONEXISTENT] No such folder" }));
            Assert.That(await client.CommandAsync("b", $"STATUS {name} (MESSAGES)"), Is.EqualTo(new[] { "b NO [NONEXISTENT] No such folder" }));
            Assert.That(await client.CommandAsync("c", $"DELETE {name}"), Is.EqualTo(new[] { "c NO [NONEXISTENT] No such folder" }));
            Assert.That(await client.CommandAsync("d", $"SUBSCRIBE {name}"), Is.EqualTo(new[] { "d NO [NONEXISTENT] No such folder" }));
        }
        await using var owner = await Login(victim);
        Assert.That(await owner.CommandAsync("e", "STATUS INBOX (MESSAGES)"), Is.EqualTo(new[] { "* STATUS INBOX (MESSAGES 1)", "e OK STATUS completed" }));
    }

    [Test]
    public async Task CloseExpungesSilentlyAndUnselectDoesNot()
    {
        var address = await NewMailbox(Message("1"), Message("2"));
        await using var client = await Login(address);
        await client.CommandAsync("a", "STORE 1:2 +FLAGS.SILENT (\\Deleted)");
        Assert.That(await client.CommandAsync("b", "UNSELECT"), Is.EqualTo(new[] { "b OK UNSELECT completed" }));
        Assert.That(await client.CommandAsync("c", "STATUS INBOX (MESSAGES)"), Is.EqualTo(new[] { "* STATUS INBOX (MESSAGES 2)", "c OK STATUS completed" }));
        await client.CommandAsync("d", "SELECT INBOX");
        Assert.That(await client.CommandAsync("e", "CLOSE"), Is.EqualTo(new[] { "e OK CLOSE completed" }));
        Assert.That(await client.CommandAsync("f", "STATUS INBOX (MESSAGES)"), Is.EqualTo(new[] { "* STATUS INBOX (MESSAGES 0)", "f OK STATUS completed" }));
        Assert.That(await client.CommandAsync("g", "CHECK"), Is.EqualTo(new[] { "g BAD CHECK is not allowed without a selected folder" }));
    }

    [Test]
    public async Task TwoSessionsSeeEachOthersChanges()
    {
        var address = await NewMailbox(Message("1"), Message("2"));
        await using var one = await Login(address);
        await using var two = await Login(address);
        Assert.That(await two.CommandAsync("a", "STORE 1 +FLAGS.SILENT (\\Flagged \\Deleted)"), Is.EqualTo(new[] { "a OK STORE completed" }));
        Assert.That(await one.CommandAsync("b", "NOOP"), Is.EqualTo(new[] { "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Deleted \\Recent))", "b OK NOOP completed" }));
        Assert.That(await two.CommandAsync("c", "EXPUNGE"), Is.EqualTo(new[] { "* 1 EXPUNGE", "c OK EXPUNGE completed" }));
        // RFC 3501 §7.4.1: no EXPUNGE during FETCH; the expunged message is simply left out.
        Assert.That(await one.CommandAsync("d", "FETCH 1:2 (UID)"), Is.EqualTo(new[] { "* 2 FETCH (UID 2)", "d OK FETCH completed" }));
        Assert.That(await one.CommandAsync("e", "NOOP"), Is.EqualTo(new[] { "* 1 EXPUNGE", "e OK NOOP completed" }));
        await ExternalClient.DeliverAsync(_server, address, Encoding.UTF8.GetBytes(Message("3")));
        Assert.That(await one.CommandAsync("f", "CHECK"), Is.EqualTo(new[] { "* 2 EXISTS", "* 2 RECENT", "f OK CHECK completed" }));
        Assert.That(await two.CommandAsync("g", "NOOP"), Is.EqualTo(new[] { "* 2 EXISTS", "* 0 RECENT", "g OK NOOP completed" }), "\\Recent goes to one session only");
    }

    [Test]
    public async Task ASessionWhoseSelectedFolderIsDeletedElsewhereIsToldBye()
    {
        var address = await NewMailbox();
        await using var one = await Login(address, select: "Junk");
        await using var idler = await Login(address, select: "Junk");
        await idler.SendAsync("i IDLE\r\n");
        Assert.That(await idler.ReadLineAsync(), Is.EqualTo("+ idling"));
        await using var two = await Login(address, select: null);
        Assert.That(await two.CommandAsync("a", "DELETE Junk"), Is.EqualTo(new[] { "a OK DELETE completed" }));
        await one.SendAsync("b NOOP\r\n");
        Assert.That(await one.ReadLineAsync(), Is.EqualTo("* BYE The selected folder was deleted or renamed"));
        Assert.That(await one.TryReadLineAsync(), Is.Null);
        Assert.That(await idler.ReadLineAsync(), Is.EqualTo("* BYE The selected folder was deleted or renamed"));
        Assert.That(await idler.TryReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task IdleAnnouncesAnAppendFromAnotherSessionAndEndsWithDone()
    {
        var address = await NewMailbox(Message("1"));
        await using var idler = await Login(address);
        await idler.SendAsync("i IDLE\r\n");
        Assert.That(await idler.ReadLineAsync(), Is.EqualTo("+ idling"));
        await using var other = await Login(address, select: null);
        await other.SendAsync("a APPEND INBOX {12+}\r\nSubject: x\r\n\r\n");
        Assert.That((await other.ReadUntilTaggedAsync("a"))[^1], Does.StartWith("a OK [APPENDUID"));
        Assert.That(await idler.ReadLineAsync(), Is.EqualTo("* 2 EXISTS"));
        Assert.That(await idler.ReadLineAsync(), Is.EqualTo("* 2 RECENT"));
        await idler.SendAsync("DONE\r\n");
        Assert.That(await idler.ReadLineAsync(), Is.EqualTo("i OK IDLE terminated"));
        await idler.SendAsync("j IDLE\r\n");
        Assert.That(await idler.ReadLineAsync(), Is.EqualTo("+ idling"));
        await idler.SendAsync("STOP\r\n");
        Assert.That(await idler.ReadLineAsync(), Is.EqualTo("j BAD Expected DONE to end IDLE"));
    }
}
