namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// IMAP keywords (RFC 3501 §2.3.2) kept the Dovecot way: letters a-z in the Maildir file name's
/// info and a per-folder <c>dovecot-keywords</c> naming them; Thunderbird's tags and $Junk work.
/// </summary>
[TestFixture]
public sealed class KeywordTests
{
    private const string SystemFlags = @"\Answered \Flagged \Deleted \Seen \Draft";
    private FlagTestMailboxes _mailboxes = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _mailboxes = await FlagTestMailboxes.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _mailboxes.Server.DisposeAsync();

    [Test]
    public async Task KeywordsAreStoredFetchedListedAndKeptInTheFileNames()
    {
        var address = await _mailboxes.NewMailbox();
        await using var client = await _mailboxes.Login(address, select: null);
        Assert.That(await FlagTestMailboxes.Append(client, "INBOX", "one", "$Forwarded \\Seen"), Does.StartWith("ap OK [APPENDUID"));
        Assert.That(await FlagTestMailboxes.Append(client, "INBOX", "two"), Does.StartWith("ap OK [APPENDUID"));
        var select = await client.CommandAsync("s", "SELECT INBOX");
        Assert.That(select[..2], Is.EqualTo(new[]
        {
            $"* FLAGS ({SystemFlags} $Forwarded)",
            $"* OK [PERMANENTFLAGS ({SystemFlags} $Forwarded \\*)] Flags permitted",
        }));

        // New keywords are announced with FLAGS before the FETCH responses that use them.
        Assert.That(await client.CommandAsync("a", "STORE 1:2 +FLAGS ($label1 $Junk)"), Is.EqualTo(new[]
        {
            $"* FLAGS ({SystemFlags} $Forwarded $label1 $Junk)",
            $"* OK [PERMANENTFLAGS ({SystemFlags} $Forwarded $label1 $Junk \\*)] Flags permitted",
            "* 1 FETCH (FLAGS (\\Seen \\Recent $Forwarded $label1 $Junk))",
            "* 2 FETCH (FLAGS (\\Recent $label1 $Junk))",
            "a OK STORE completed",
        }));
        // Names compare case-insensitively and keep the case first used.
        Assert.That(await client.CommandAsync("b", "STORE 2 -FLAGS ($JUNK)"), Is.EqualTo(new[] { "* 2 FETCH (FLAGS (\\Recent $label1))", "b OK STORE completed" }));
        Assert.That(await client.CommandAsync("c", "STORE 2 FLAGS (\\Flagged $notjunk $MDNSent)"), Is.EqualTo(new[]
        {
            $"* FLAGS ({SystemFlags} $Forwarded $label1 $Junk $notjunk $MDNSent)",
            $"* OK [PERMANENTFLAGS ({SystemFlags} $Forwarded $label1 $Junk $notjunk $MDNSent \\*)] Flags permitted",
            "* 2 FETCH (FLAGS (\\Flagged \\Recent $notjunk $MDNSent))",
            "c OK STORE completed",
        }));
        Assert.That(await client.CommandAsync("d", "FETCH 1:2 FLAGS"), Is.EqualTo(new[]
        {
            "* 1 FETCH (FLAGS (\\Seen \\Recent $Forwarded $label1 $Junk))",
            "* 2 FETCH (FLAGS (\\Flagged \\Recent $notjunk $MDNSent))",
            "d OK FETCH completed",
        }));

        var inbox = _mailboxes.InboxPath(address);
        Assert.That(File.ReadAllText(Path.Combine(inbox, "dovecot-keywords")), Is.EqualTo("0 $Forwarded\n1 $label1\n2 $Junk\n3 $notjunk\n4 $MDNSent\n"));
        Assert.That(Directory.GetFiles(Path.Combine(inbox, "cur")).Select(f => f[(f.LastIndexOf(":2,", StringComparison.Ordinal) + 3)..]).Order(),
            Is.EqualTo(new[] { "Fde", "Sabc" }));
    }

    [Test]
    public async Task SearchFindsMessagesByKeywordAndAnUnknownKeywordIsOnNone()
    {
        var address = await _mailboxes.NewMailbox();
        await using var client = await _mailboxes.Login(address, select: null);
        await FlagTestMailboxes.Append(client, "INBOX", "one", "$label2");
        await FlagTestMailboxes.Append(client, "INBOX", "two");
        await FlagTestMailboxes.Append(client, "INBOX", "three", "$Label2 $Junk");
        await client.CommandAsync("s", "SELECT INBOX");
        Assert.That(await client.CommandAsync("a", "SEARCH KEYWORD $LABEL2"), Is.EqualTo(new[] { "* SEARCH 1 3", "a OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("b", "SEARCH UNKEYWORD $label2"), Is.EqualTo(new[] { "* SEARCH 2", "b OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("c", "UID SEARCH KEYWORD $Junk NOT KEYWORD $Forwarded"), Is.EqualTo(new[] { "* SEARCH 3", "c OK UID SEARCH completed" }));
        Assert.That(await client.CommandAsync("d", "SEARCH KEYWORD $Never"), Is.EqualTo(new[] { "* SEARCH", "d OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("e", "SEARCH UNKEYWORD $Never"), Is.EqualTo(new[] { "* SEARCH 1 2 3", "e OK SEARCH completed" }));
    }

    [Test]
    public async Task CopyAndMoveMapKeywordsByNameIntoTheTargetFoldersOwnLetters()
    {
        var address = await _mailboxes.NewMailbox();
        await using var client = await _mailboxes.Login(address, select: null);
        Assert.That((await client.CommandAsync("a", "CREATE Tagged"))[^1], Is.EqualTo("a OK CREATE completed"));
        await FlagTestMailboxes.Append(client, "Tagged", "already there", "$MDNSent");
        await FlagTestMailboxes.Append(client, "INBOX", "one", "$Junk \\Flagged");
        await FlagTestMailboxes.Append(client, "INBOX", "two", "$label3");
        await client.CommandAsync("s", "SELECT INBOX");
        Assert.That(await client.CommandAsync("b", "COPY 1 Tagged"), Has.Some.StartsWith("b OK [COPYUID"));
        Assert.That(await client.CommandAsync("c", "UID MOVE 2 Tagged"), Has.Some.StartsWith("c OK"));
        Assert.That((await client.CommandAsync("d", "SELECT Tagged"))[1], Is.EqualTo($"* FLAGS ({SystemFlags} $MDNSent $Junk $label3)"));
        Assert.That(await client.CommandAsync("e", "FETCH 1:3 (FLAGS)"), Is.EqualTo(new[]
        {
            "* 1 FETCH (FLAGS (\\Recent $MDNSent))",
            "* 2 FETCH (FLAGS (\\Flagged \\Recent $Junk))",
            "* 3 FETCH (FLAGS (\\Recent $label3))",
            "e OK FETCH completed",
        }));
        var inbox = _mailboxes.InboxPath(address);
        Assert.That(File.ReadAllText(Path.Combine(inbox, "dovecot-keywords")), Is.EqualTo("0 $Junk\n1 $label3\n"));
        Assert.That(File.ReadAllText(Path.Combine(inbox, ".Tagged", "dovecot-keywords")), Is.EqualTo("0 $MDNSent\n1 $Junk\n2 $label3\n"));
    }

    [Test]
    public async Task WhenAll26LettersAreTakenANewKeywordIsRefusedWithLimitAndPermanentFlagsDropsTheStar()
    {
        var address = await _mailboxes.NewMailbox();
        await using var client = await _mailboxes.Login(address, select: null);
        await FlagTestMailboxes.Append(client, "INBOX", "one");
        await client.CommandAsync("s", "SELECT INBOX");
        var names = string.Join(' ', Enumerable.Range(0, 26).Select(i => $"k{i}"));
        Assert.That((await client.CommandAsync("a", $"STORE 1 +FLAGS.SILENT ({names})"))[^1], Is.EqualTo("a OK STORE completed"));
        Assert.That(await client.CommandAsync("b", "STORE 1 +FLAGS (k26)"), Is.EqualTo(new[] { "b NO [LIMIT] The folder has 26 keywords already; k26 cannot be added" }));
        Assert.That(await FlagTestMailboxes.Append(client, "INBOX", "two", "k27"), Is.EqualTo("ap NO [LIMIT] The folder has 26 keywords already; k27 cannot be added"));
        // Keywords already defined still work, and nothing was stored by the refused commands.
        Assert.That(await client.CommandAsync("c", "STORE 1 FLAGS (K25)"), Is.EqualTo(new[] { "* 1 FETCH (FLAGS (\\Recent k25))", "c OK STORE completed" }));
        var select = await client.CommandAsync("d", "SELECT INBOX");
        Assert.That(select[..3], Is.EqualTo(new[] { "* OK [CLOSED] Previous folder closed", $"* FLAGS ({SystemFlags} {names})", $"* OK [PERMANENTFLAGS ({SystemFlags} {names})] Flags permitted" }));
        Assert.That(select, Does.Contain("* 1 EXISTS"));
    }

    [Test]
    public async Task AnotherSessionIsToldOfANewKeywordWithFlagsThenTheFetch()
    {
        var address = await _mailboxes.NewMailbox();
        await using var first = await _mailboxes.Login(address, select: null);
        await FlagTestMailboxes.Append(first, "INBOX", "one");
        await first.CommandAsync("s", "SELECT INBOX");
        await using var second = await _mailboxes.Login(address);
        await first.CommandAsync("a", "STORE 1 +FLAGS.SILENT ($label4)");
        Assert.That(await second.CommandAsync("b", "NOOP"), Is.EqualTo(new[]
        {
            $"* FLAGS ({SystemFlags} $label4)",
            $"* OK [PERMANENTFLAGS ({SystemFlags} $label4 \\*)] Flags permitted",
            "* 1 FETCH (UID 1 FLAGS ($label4))",
            "b OK NOOP completed",
        }));
    }

    [Test]
    public async Task AMaildirWrittenByDovecotShowsItsKeywordsAndGetsNewOnesAfterThem()
    {
        var address = await _mailboxes.NewMailbox();
        await using var client = await _mailboxes.Login(address, select: null);
        var inbox = _mailboxes.InboxPath(address);
        File.WriteAllText(Path.Combine(inbox, "dovecot-keywords"), "0 $Forwarded\n1 Junk\n3 $label5\n");
        File.WriteAllText(Path.Combine(inbox, "cur", "1700000000.M1P2.mx,S=34,W=36:2,RSab"), "Subject: from dovecot\r\n\r\nbody\r\n");
        File.WriteAllText(Path.Combine(inbox, "cur", "1700000001.M1P2.mx,S=34,W=36:2,d"), "Subject: also dovecot\r\n\r\nbody\r\n");
        var select = await client.CommandAsync("s", "SELECT INBOX");
        Assert.That(select[0], Is.EqualTo($"* FLAGS ({SystemFlags} $Forwarded Junk $label5)"));
        Assert.That(await client.CommandAsync("a", "FETCH 1:2 FLAGS"), Is.EqualTo(new[]
        {
            "* 1 FETCH (FLAGS (\\Answered \\Seen $Forwarded Junk))",
            "* 2 FETCH (FLAGS ($label5))",
            "a OK FETCH completed",
        }));
        Assert.That((await client.CommandAsync("b", "STORE 2 +FLAGS.SILENT (junk $NotJunk)"))[^1], Is.EqualTo("b OK STORE completed"));
        Assert.That(File.ReadAllText(Path.Combine(inbox, "dovecot-keywords")), Is.EqualTo("0 $Forwarded\n1 Junk\n2 $NotJunk\n3 $label5\n"));
        Assert.That(Directory.GetFiles(Path.Combine(inbox, "cur")).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "1700000000.M1P2.mx,S=34,W=36:2,RSab", "1700000001.M1P2.mx,S=34,W=36:2,bcd" }));
    }
}
