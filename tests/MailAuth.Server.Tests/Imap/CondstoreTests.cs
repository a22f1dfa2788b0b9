using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// CONDSTORE (RFC 7162 §3.1): per-message MODSEQ, HIGHESTMODSEQ, CHANGEDSINCE, UNCHANGEDSINCE with
/// MODIFIED, SEARCH MODSEQ; the examples of §3.1 with this server's mod-sequences. In a new
/// mailbox HIGHESTMODSEQ is 1 and each APPEND takes the next value.
/// </summary>
[TestFixture]
public sealed class CondstoreTests
{
    private FlagTestMailboxes _mailboxes = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _mailboxes = await FlagTestMailboxes.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _mailboxes.Server.DisposeAsync();

    /// <summary>A mailbox with three appended messages (MODSEQ 2, 3, 4), logged in, nothing selected.</summary>
    private async Task<(string Address, ImapTestClient Client)> ThreeMessages()
    {
        var address = await _mailboxes.NewMailbox();
        var client = await _mailboxes.Login(address, select: null);
        foreach (var subject in new[] { "one", "two", "three" })
        {
            Assert.That(await FlagTestMailboxes.Append(client, "INBOX", subject), Does.StartWith("ap OK"));
        }
        return (address, client);
    }

    [Test]
    public async Task CapabilityAndEnableListWhatWasEnabled()
    {
        var address = await _mailboxes.NewMailbox();
        await using var client = await _mailboxes.Login(address, select: null);
        Assert.That((await client.CommandAsync("a", "CAPABILITY"))[0], Does.Contain(" CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE"));
        // RFC 5161 §3.1: ENABLED names only what this command enabled; unknown names are ignored.
        Assert.That(await client.CommandAsync("b", "ENABLE CONDSTORE X-UNKNOWN"), Is.EqualTo(new[] { "* ENABLED CONDSTORE", "b OK ENABLE completed" }));
        Assert.That(await client.CommandAsync("c", "ENABLE CONDSTORE"), Is.EqualTo(new[] { "* ENABLED", "c OK ENABLE completed" }));
        Assert.That(await client.CommandAsync("d", "ENABLE QRESYNC CONDSTORE"), Is.EqualTo(new[] { "* ENABLED QRESYNC", "d OK ENABLE completed" }));
    }

    [Test]
    public async Task SelectShowsHighestModSeqAndFetchShowsEachMessagesModSeq()
    {
        var (_, client) = await ThreeMessages();
        await using var _ = client;
        var select = await client.CommandAsync("s", "SELECT INBOX (CONDSTORE)");
        Assert.That(select[^2..], Is.EqualTo(new[] { "* OK [HIGHESTMODSEQ 4] Highest mod-sequence", "s OK [READ-WRITE] SELECT completed" }));
        Assert.That(await client.CommandAsync("a", "FETCH 1:* (FLAGS MODSEQ)"), Is.EqualTo(new[]
        {
            "* 1 FETCH (FLAGS (\\Recent) MODSEQ (2))",
            "* 2 FETCH (FLAGS (\\Recent) MODSEQ (3))",
            "* 3 FETCH (FLAGS (\\Recent) MODSEQ (4))",
            "a OK FETCH completed",
        }));
        Assert.That(await client.CommandAsync("b", "STATUS INBOX (HIGHESTMODSEQ MESSAGES)"), Is.EqualTo(new[] { "* STATUS INBOX (HIGHESTMODSEQ 4 MESSAGES 3)", "b OK STATUS completed" }));
    }

    /// <summary>RFC 7162 §3.1: the first CONDSTORE enabling command in a selected mailbox reports its HIGHESTMODSEQ once (imaptest's esearch-condstore).</summary>
    [Test]
    public async Task TheFirstEnablingCommandInASelectedMailboxReportsHighestModSeq()
    {
        var (_, client) = await ThreeMessages();
        await using var _ = client;
        await client.CommandAsync("s", "SELECT INBOX");
        Assert.That(await client.CommandAsync("a", "FETCH 1 MODSEQ"), Is.EqualTo(new[]
        {
            "* OK [HIGHESTMODSEQ 4] Highest mod-sequence",
            "* 1 FETCH (MODSEQ (2))",
            "a OK FETCH completed",
        }));
        Assert.That(await client.CommandAsync("b", "FETCH 2 MODSEQ"), Is.EqualTo(new[] { "* 2 FETCH (MODSEQ (3))", "b OK FETCH completed" }));
        Assert.That(await client.CommandAsync("c", "SELECT INBOX (CONDSTORE)"), Has.Exactly(1).StartsWith("* OK [HIGHESTMODSEQ").And.Some.EqualTo("* OK [HIGHESTMODSEQ 4] Highest mod-sequence"));
    }

    /// <summary>RFC 7162 §3.1.3 examples 6 and 7: a conditional STORE, MODIFIED, and .SILENT still reporting MODSEQ.</summary>
    [Test]
    public async Task ConditionalStoreChangesOnlyMessagesUnchangedSinceAndNamesTheOthers()
    {
        var (_, client) = await ThreeMessages();
        await using var _ = client;
        await client.CommandAsync("s", "SELECT INBOX (CONDSTORE)");
        Assert.That(await client.CommandAsync("a", "STORE 1,3 (UNCHANGEDSINCE 3) +FLAGS (\\Seen)"), Is.EqualTo(new[]
        {
            "* 1 FETCH (FLAGS (\\Seen \\Recent) UID 1 MODSEQ (5))",
            "a OK [MODIFIED 3] Conditional STORE failed for some messages",
        }));
        Assert.That(await client.CommandAsync("b", "UID STORE 2,3 (UNCHANGEDSINCE 4) +FLAGS.SILENT (\\Deleted)"), Is.EqualTo(new[]
        {
            "* 2 FETCH (UID 2 MODSEQ (6))",
            "* 3 FETCH (UID 3 MODSEQ (6))",
            "b OK UID STORE completed",
        }));
        // UNCHANGEDSINCE 0 always fails (§3.1.3).
        Assert.That(await client.CommandAsync("c", "UID STORE 1:3 (UNCHANGEDSINCE 0) FLAGS ()"), Is.EqualTo(new[] { "c OK [MODIFIED 1:3] Conditional STORE failed for some messages" }));
        Assert.That(await client.CommandAsync("d", "FETCH 1:* (FLAGS) (CHANGEDSINCE 5)"), Is.EqualTo(new[]
        {
            "* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent) MODSEQ (6))",
            "* 3 FETCH (UID 3 FLAGS (\\Deleted \\Recent) MODSEQ (6))",
            "d OK FETCH completed",
        }));
        Assert.That(await client.CommandAsync("e", "STORE 1 (UNCHANGEDSINCE x) FLAGS ()"), Is.EqualTo(new[] { "e BAD expected a mod-sequence" }));
    }

    /// <summary>RFC 7162 §3.1.5: SEARCH MODSEQ, with and without the entry name, ends with the highest MODSEQ found.</summary>
    [Test]
    public async Task SearchByModSeqReportsTheHighestModSeqOfTheMatches()
    {
        var (_, client) = await ThreeMessages();
        await using var _ = client;
        await client.CommandAsync("s", "SELECT INBOX");
        await client.CommandAsync("a", "STORE 1 +FLAGS.SILENT (\\Flagged)");
        Assert.That(await client.CommandAsync("b", "SEARCH MODSEQ 3"), Is.EqualTo(new[] { "* OK [HIGHESTMODSEQ 5] Highest mod-sequence", "* SEARCH 1 2 3 (MODSEQ 5)", "b OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("c", "UID SEARCH MODSEQ \"/flags/\\\\draft\" all 4 NOT FLAGGED"), Is.EqualTo(new[] { "* SEARCH 3 (MODSEQ 4)", "c OK UID SEARCH completed" }));
        Assert.That(await client.CommandAsync("d", "SEARCH MODSEQ 6"), Is.EqualTo(new[] { "* SEARCH", "d OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("e", "SEARCH MODSEQ \"/flags/\\\\draft\" both 4"), Is.EqualTo(new[] { "e BAD expected priv, shared or all" }));
    }

    [Test]
    public async Task OnceEnabledAnotherSessionsChangesAndExpungesComeWithUidAndModSeq()
    {
        var (address, client) = await ThreeMessages();
        await using var _ = client;
        await client.CommandAsync("s", "SELECT INBOX");
        await using var watcher = await _mailboxes.Login(address, select: null);
        await using var plain = await _mailboxes.Login(address);
        Assert.That(await watcher.CommandAsync("e", "ENABLE CONDSTORE"), Has.Member("* ENABLED CONDSTORE"));
        await watcher.CommandAsync("s", "SELECT INBOX");
        await client.CommandAsync("a", "STORE 2 +FLAGS.SILENT (\\Answered $label1)");
        Assert.That(await watcher.CommandAsync("b", "NOOP"), Has.Member("* 2 FETCH (UID 2 FLAGS (\\Answered $label1) MODSEQ (5))"));
        Assert.That(await plain.CommandAsync("b", "NOOP"), Has.Member("* 2 FETCH (UID 2 FLAGS (\\Answered $label1))"));
        // The implicit \Seen of a FETCH is a change too (§3.1).
        Assert.That(await watcher.CommandAsync("c", "FETCH 1 (BODY[TEXT])"), Is.EqualTo(new[]
        {
            "* 1 FETCH (BODY[TEXT] {13}",
            "body of one",
            " FLAGS (\\Seen) UID 1 MODSEQ (6))",
            "c OK FETCH completed",
        }));
        await client.CommandAsync("d", "STORE 3 +FLAGS.SILENT (\\Deleted)");
        await client.CommandAsync("f", "EXPUNGE");
        Assert.That(await watcher.CommandAsync("g", "STATUS INBOX (HIGHESTMODSEQ)"), Is.EqualTo(new[] { "* STATUS INBOX (HIGHESTMODSEQ 8)", "* 3 EXPUNGE", "g OK STATUS completed" }));
    }

    [Test]
    public async Task ModSeqsSurviveARestartAndAChangeMadeWhileStoppedGetsANewOne()
    {
        var cli = new MailAuthProcess();
        try
        {
            const string Address = "restart@family.example";
            var first = await RunningServer.StartAsync(existing: cli);
            try
            {
                Assert.That((await cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
                Assert.That((await cli.RunWithInputAsync(FlagTestMailboxes.Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
                await using var client = await new FlagTestMailboxes(first).Login(Address, select: null);
                await FlagTestMailboxes.Append(client, "INBOX", "one");
                await FlagTestMailboxes.Append(client, "INBOX", "two");
                await client.CommandAsync("s", "SELECT INBOX");
                await client.CommandAsync("a", "STORE 1 +FLAGS.SILENT ($Junk)");
                Assert.That(await client.CommandAsync("b", "FETCH 1:2 (MODSEQ)"), Is.EqualTo(new[] { "* OK [HIGHESTMODSEQ 4] Highest mod-sequence", "* 1 FETCH (MODSEQ (4))", "* 2 FETCH (MODSEQ (3))", "b OK FETCH completed" }));
            }
            finally
            {
                await first.DisposeAsync();
            }
            // Another program (or a crash between a rename and the list's save) flags message 2 while we are down.
            var cur = Path.Combine(new FlagTestMailboxes(first).InboxPath(Address), "cur");
            var file = Directory.GetFiles(cur).Single(f => File.ReadAllText(f).Contains("two", StringComparison.Ordinal));
            File.Move(file, file + "F");

            await using var second = await RunningServer.StartAsync(existing: cli);
            await using var again = await new FlagTestMailboxes(second).Login(Address, select: null);
            var select = await again.CommandAsync("s", "SELECT INBOX");
            Assert.That(select, Has.Member("* OK [HIGHESTMODSEQ 5] Highest mod-sequence"));
            Assert.That(await again.CommandAsync("a", "FETCH 1:2 (FLAGS MODSEQ)"), Is.EqualTo(new[]
            {
                "* OK [HIGHESTMODSEQ 5] Highest mod-sequence",
                "* 1 FETCH (FLAGS ($Junk) MODSEQ (4))",
                "* 2 FETCH (FLAGS (\\Flagged) MODSEQ (5))",
                "a OK FETCH completed",
            }));
            Assert.That(await again.CommandAsync("b", "STORE 1 -FLAGS ($Junk)"), Is.EqualTo(new[] { "* 1 FETCH (FLAGS () UID 1 MODSEQ (6))", "b OK STORE completed" }));
        }
        finally
        {
            cli.Dispose();
        }
    }

    [Test]
    public async Task TwoSessionsStoringAtOnceNeverShareOrLoseAModSeq()
    {
        var (address, client) = await ThreeMessages();
        await using var _ = client;
        await client.CommandAsync("s", "SELECT INBOX");
        await using var other = await _mailboxes.Login(address);
        var tasks = new List<Task<List<string>>>();
        for (var i = 0; i < 10; i++)
        {
            tasks.Add(client.CommandAsync($"a{i}", $"STORE 1 {(i % 2 == 0 ? "+" : "-")}FLAGS.SILENT (\\Seen)"));
            tasks.Add(other.CommandAsync($"b{i}", $"STORE 2 {(i % 2 == 0 ? "+" : "-")}FLAGS.SILENT ($label1)"));
            await Task.WhenAll(tasks);
        }
        var fetched = string.Join('\n', await client.CommandAsync("f", "FETCH 1:3 (MODSEQ)"));
        var modSeqs = Regex.Matches(fetched, @"FETCH \(MODSEQ \((\d+)\)\)").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        // 3 appends, 10 changes of each message: 23 changes, each with its own mod-sequence.
        var status = await client.CommandAsync("g", "STATUS INBOX (HIGHESTMODSEQ)");
        Assert.That(status, Has.Member("* STATUS INBOX (HIGHESTMODSEQ 24)"));
        Assert.That(modSeqs, Is.EqualTo(new long[] { 23, 24, 4 }).Or.EqualTo(new long[] { 24, 23, 4 }));
    }
}
