namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// QRESYNC (RFC 7162 §3.2): SELECT with the client's state answered by VANISHED (EARLIER) and the
/// changed FETCHes (§3.2.5 examples), UID FETCH with VANISHED (§3.2.6), EXPUNGE as VANISHED
/// (§3.2.10) and CLOSED (§3.2.11), with this server's UIDs and mod-sequences.
/// </summary>
[TestFixture]
public sealed class QresyncTests
{
    private FlagTestMailboxes _mailboxes = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _mailboxes = await FlagTestMailboxes.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _mailboxes.Server.DisposeAsync();

    /// <summary>
    /// UIDs 1-5 appended (MODSEQ 2-6), seen by a first session; 2 and 4 expunged (MODSEQ 8), 5 made
    /// \Seen (MODSEQ 9). A client that synchronised at MODSEQ 6 has missed exactly that.
    /// </summary>
    private async Task<(string Address, ImapTestClient First, uint Validity)> ChangedSinceSix()
    {
        var address = await _mailboxes.NewMailbox();
        var first = await _mailboxes.Login(address, select: null);
        for (var i = 1; i <= 5; i++)
        {
            await FlagTestMailboxes.Append(first, "INBOX", $"message {i}");
        }
        var validity = FlagTestMailboxes.UidValidity(await first.CommandAsync("s", "SELECT INBOX"));
        await first.CommandAsync("a", "UID STORE 2,4 +FLAGS.SILENT (\\Deleted)");
        Assert.That(await first.CommandAsync("b", "EXPUNGE"), Is.EqualTo(new[] { "* 4 EXPUNGE", "* 2 EXPUNGE", "b OK EXPUNGE completed" }));
        await first.CommandAsync("c", "UID STORE 5 +FLAGS.SILENT (\\Seen)");
        return (address, first, validity);
    }

    private async Task<ImapTestClient> QresyncClient(string address)
    {
        var client = await _mailboxes.Login(address, select: null);
        Assert.That(await client.CommandAsync("e", "ENABLE QRESYNC"), Is.EqualTo(new[] { "* ENABLED QRESYNC", "e OK ENABLE completed" }));
        return client;
    }

    [Test]
    public async Task SelectWithTheClientsStateReportsWhatVanishedAndWhatChanged()
    {
        var (address, first, validity) = await ChangedSinceSix();
        await using var _ = first;
        await using var client = await QresyncClient(address);
        Assert.That(await client.CommandAsync("s", $"SELECT INBOX (QRESYNC ({validity} 6 1:5))"), Is.EqualTo(new[]
        {
            @"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)",
            @"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted",
            "* 3 EXISTS",
            "* 0 RECENT",
            "* OK [UNSEEN 1] First unseen message",
            $"* OK [UIDVALIDITY {validity}] UIDs valid",
            "* OK [UIDNEXT 6] Predicted next UID",
            "* OK [HIGHESTMODSEQ 9] Highest mod-sequence",
            "* VANISHED (EARLIER) 2,4",
            @"* 3 FETCH (UID 5 FLAGS (\Seen) MODSEQ (9))",
            "s OK [READ-WRITE] SELECT completed",
        }));
        // Known UIDs narrow both reports; a UIDVALIDITY the folder no longer has gets neither (§3.2.5).
        var narrowed = await client.CommandAsync("t", $"EXAMINE INBOX (QRESYNC ({validity} 6 1:3))");
        Assert.That(narrowed[0], Is.EqualTo("* OK [CLOSED] Previous folder closed"));
        Assert.That(narrowed[^3..], Is.EqualTo(new[] { "* OK [HIGHESTMODSEQ 9] Highest mod-sequence", "* VANISHED (EARLIER) 2", "t OK [READ-ONLY] EXAMINE completed" }));
        var stale = await client.CommandAsync("u", $"SELECT INBOX (QRESYNC ({validity + 1} 6))");
        Assert.That(stale[^2..], Is.EqualTo(new[] { "* OK [HIGHESTMODSEQ 9] Highest mod-sequence", "u OK [READ-WRITE] SELECT completed" }));
    }

    /// <summary>§3.2.5.2: message 2 is UID 3 for the client as for the server, so nothing up to UID 3 can have vanished since.</summary>
    [Test]
    public async Task SequenceMatchDataLimitsVanishedToUidsAboveTheLastMatch()
    {
        var (address, first, validity) = await ChangedSinceSix();
        await using var _ = first;
        await using var client = await QresyncClient(address);
        var select = await client.CommandAsync("s", $"SELECT INBOX (QRESYNC ({validity} 6 1:5 (1:2 1,3)))");
        Assert.That(select[^3..], Is.EqualTo(new[] { "* VANISHED (EARLIER) 4", @"* 3 FETCH (UID 5 FLAGS (\Seen) MODSEQ (9))", "s OK [READ-WRITE] SELECT completed" }));
    }

    /// <summary>§3.2.6: UID FETCH (CHANGEDSINCE n VANISHED) reports the expunged UIDs of the set first.</summary>
    [Test]
    public async Task UidFetchChangedSinceWithVanishedReportsExpungedUidsFirst()
    {
        var (address, first, _) = await ChangedSinceSix();
        await using var _1 = first;
        await using var client = await QresyncClient(address);
        await client.CommandAsync("s", "SELECT INBOX");
        Assert.That(await client.CommandAsync("a", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 6 VANISHED)"), Is.EqualTo(new[]
        {
            "* VANISHED (EARLIER) 2,4",
            @"* 3 FETCH (UID 5 FLAGS (\Seen) MODSEQ (9))",
            "a OK UID FETCH completed",
        }));
        Assert.That(await client.CommandAsync("b", "UID FETCH 3:4 (FLAGS) (CHANGEDSINCE 6 VANISHED)"), Is.EqualTo(new[] { "* VANISHED (EARLIER) 4", "b OK UID FETCH completed" }));
        Assert.That(await client.CommandAsync("c", "FETCH 1:* (FLAGS) (CHANGEDSINCE 6 VANISHED)"), Is.EqualTo(new[] { "c BAD VANISHED needs UID FETCH with CHANGEDSINCE after ENABLE QRESYNC" }));
        Assert.That(await client.CommandAsync("d", "UID FETCH 1:* (FLAGS) (VANISHED)"), Is.EqualTo(new[] { "d BAD VANISHED needs UID FETCH with CHANGEDSINCE after ENABLE QRESYNC" }));
    }

    /// <summary>§3.2.10: once QRESYNC is on, expunges are VANISHED (without EARLIER), for this session and the others.</summary>
    [Test]
    public async Task ExpungeIsReportedAsVanishedOnlyToQresyncSessions()
    {
        var (address, first, _) = await ChangedSinceSix();
        await using var _1 = first;
        await using var client = await QresyncClient(address);
        await using var other = await QresyncClient(address);
        await client.CommandAsync("s", "SELECT INBOX");
        await other.CommandAsync("s", "SELECT INBOX");
        Assert.That(await client.CommandAsync("a", "UID STORE 1,3 +FLAGS.SILENT (\\Deleted)"), Is.EqualTo(new[]
        {
            "* 1 FETCH (UID 1 MODSEQ (10))",
            "* 2 FETCH (UID 3 MODSEQ (10))",
            "a OK UID STORE completed",
        }));
        Assert.That(await client.CommandAsync("b", "EXPUNGE"), Is.EqualTo(new[] { "* VANISHED 1,3", "b OK EXPUNGE completed" }));
        // The flag change and the expunge arrive together: only the expunge is left to tell.
        Assert.That(await other.CommandAsync("c", "NOOP"), Is.EqualTo(new[] { "* VANISHED 1,3", "c OK NOOP completed" }));
        Assert.That(await first.CommandAsync("d", "NOOP"), Is.EqualTo(new[] { "* 2 EXPUNGE", "* 1 EXPUNGE", "d OK NOOP completed" }));
    }

    [Test]
    public async Task TheQresyncParameterNeedsEnableFirst()
    {
        var (address, first, validity) = await ChangedSinceSix();
        await using var _ = first;
        await using var client = await _mailboxes.Login(address, select: null);
        Assert.That(await client.CommandAsync("s", $"SELECT INBOX (QRESYNC ({validity} 6))"), Is.EqualTo(new[] { "s BAD QRESYNC must be enabled first (ENABLE QRESYNC)" }));
    }
}
