using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// NOTIFY (RFC 5465) as transcripts between two sessions on one mailbox: the watching session gets
/// untagged STATUS, LIST, EXISTS, EXPUNGE and FETCH responses while it sends nothing, and in IDLE.
/// </summary>
[TestFixture]
public sealed class NotifyTests
{
    private const string Password = "notify-pass 9";
    private RunningServer _server = null!;
    private int _next;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Imap__IdlePollIntervalMilliseconds"] = "200" });
        Assert.That((await _server.Cli.RunAsync("domain", "add", "notify.example")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private async Task<string> NewMailbox()
    {
        var address = $"watcher{Interlocked.Increment(ref _next)}@notify.example";
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
        return address;
    }

    private async Task<ImapTestClient> Login(string address)
    {
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        return client;
    }

    private static async Task Ok(ImapTestClient client, string command) =>
        Assert.That((await client.CommandAsync("o", command))[^1], Does.StartWith("o OK"), command);

    private static async Task Append(ImapTestClient client, string folder, string subject)
    {
        var message = $"From: anna@notify.example\r\nTo: julie@notify.example\r\nSubject: {subject}\r\n\r\nhello\r\n";
        await Ok(client, $"APPEND {folder} {{{message.Length}+}}\r\n{message}");
    }

    private static async Task<string> UidValidity(ImapTestClient client, string folder) =>
        (await client.CommandAsync("v", $"STATUS {folder} (UIDVALIDITY)"))[0].Split(' ')[^1].TrimEnd(')');

    /// <summary>Nothing was pushed: the next line is the answer to a command sent now.</summary>
    private static async Task NothingPending(ImapTestClient client)
    {
        await Task.Delay(600);
        Assert.That(await client.CommandAsync("n", "CAPABILITY"), Has.Count.EqualTo(2).And.Member("n OK CAPABILITY completed"));
    }

    /// <summary>RFC 5465 §5.2 with CONDSTORE: a client watching FlagChange is told HIGHESTMODSEQ, at SET STATUS and when flags change (imaptest's notify).</summary>
    [Test]
    public async Task WatchingFlagChangeReportsHighestModSeq()
    {
        var address = await NewMailbox();
        await using var watcher = await Login(address);
        await using var other = await Login(address);
        await Ok(other, "CREATE Watched");
        await Append(other, "Watched", "first");
        var validity = await UidValidity(other, "Watched");
        Assert.That(await watcher.CommandAsync("a", "NOTIFY SET STATUS (MAILBOXES Watched (MessageNew MessageExpunge))"), Is.EqualTo(new[]
        {
            $"* STATUS Watched (MESSAGES 1 UIDNEXT 2 UIDVALIDITY {validity})",
            "a OK NOTIFY completed",
        }));
        var set = await watcher.CommandAsync("b", "NOTIFY SET STATUS (MAILBOXES Watched (MessageNew MessageExpunge FlagChange))");
        Assert.That(set, Has.Count.EqualTo(2));
        Assert.That(set[0], Does.Match($@"^\* STATUS Watched \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY {validity} HIGHESTMODSEQ (\d+)\)$"));
        var before = ulong.Parse(Regex.Match(set[0], @"HIGHESTMODSEQ (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        await Ok(other, "SELECT Watched");
        await Ok(other, "STORE 1 +FLAGS.SILENT (\\Flagged)");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo($"* STATUS Watched (HIGHESTMODSEQ {before + 1})"));
    }

    [Test]
    public async Task Rfc5465NewMailInTheSelectedMailboxComesWithItsHeadersAndOtherMailboxesAsStatus()
    {
        var address = await NewMailbox();
        await using var watcher = await Login(address);
        await using var other = await Login(address);
        await Ok(other, "CREATE Lists.Lemonade");
        await Append(other, "Lists.Lemonade", "first");
        await Append(other, "INBOX", "one");
        await Ok(watcher, "SELECT INBOX");
        // RFC 5465 §3.1's example: the selected mailbox with the headers of new mail, and a subtree.
        var set = await watcher.CommandAsync("a", "NOTIFY SET STATUS (SELECTED (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From To Subject)]) MessageExpunge)) (SUBTREE Lists (MessageNew MessageExpunge))");
        // CREATE made the parent Lists too: both are in the subtree.
        Assert.That(set, Is.EqualTo(new[]
        {
            $"* STATUS Lists (MESSAGES 0 UIDNEXT 1 UIDVALIDITY {await UidValidity(other, "Lists")})",
            $"* STATUS Lists.Lemonade (MESSAGES 1 UIDNEXT 2 UIDVALIDITY {await UidValidity(other, "Lists.Lemonade")})",
            "a OK NOTIFY completed",
        }));

        await Append(other, "INBOX", "two");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* 2 EXISTS"));
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* 2 RECENT"));
        var headers = "From: anna@notify.example\r\nTo: julie@notify.example\r\nSubject: two\r\n\r\n";
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo($"* 2 FETCH (UID 2 BODY[HEADER.FIELDS (From To Subject)] {{{headers.Length}}}"));
        Assert.That(Encoding.ASCII.GetString(await watcher.ReadBytesAsync(headers.Length)), Is.EqualTo(headers));
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo(")"));

        await Append(other, "Lists.Lemonade", "second");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* STATUS Lists.Lemonade (MESSAGES 2 UIDNEXT 3)"));

        // MessageExpunge on the selected mailbox: EXPUNGE at once, with no command in progress.
        await Ok(other, "SELECT INBOX");
        await Ok(other, "STORE 1 +FLAGS.SILENT (\\Deleted)");
        await Ok(other, "EXPUNGE");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* 1 EXPUNGE"));

        // A mailbox outside every group says nothing.
        await Append(other, "Sent", "elsewhere");
        await NothingPending(watcher);

        Assert.That(await watcher.CommandAsync("b", "NOTIFY NONE"), Is.EqualTo(new[] { "b OK NOTIFY completed" }));
        await Append(other, "Lists.Lemonade", "third");
        await NothingPending(watcher);
    }

    [Test]
    public async Task MailDeliveredByAnotherProcessIsFoundByTheFallbackPoll()
    {
        var address = await NewMailbox();
        await using var watcher = await Login(address);
        Assert.That(await watcher.CommandAsync("a", "NOTIFY SET (INBOXES (MessageNew MessageExpunge))"), Is.EqualTo(new[] { "a OK NOTIFY completed" }));
        await ExternalClient.DeliverAsync(_server, address, Encoding.ASCII.GetBytes("Subject: from outside\r\n\r\nhi\r\n"));
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* STATUS INBOX (MESSAGES 1 UIDNEXT 2)"));
    }

    [Test]
    public async Task Rfc5465MailboxNameAndSubscriptionChangeComeAsListResponses()
    {
        var address = await NewMailbox();
        await using var watcher = await Login(address);
        await using var other = await Login(address);
        Assert.That(await watcher.CommandAsync("a", "NOTIFY SET (PERSONAL (MailboxName SubscriptionChange))"), Is.EqualTo(new[] { "a OK NOTIFY completed" }));
        await Ok(other, "CREATE Projects");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* LIST (\\HasNoChildren) \".\" Projects"));
        await Ok(other, "RENAME Projects Done");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* LIST (\\HasNoChildren) \".\" Done (\"OLDNAME\" (Projects))"));
        await Ok(other, "SUBSCRIBE Done");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* LIST (\\HasNoChildren \\Subscribed) \".\" Done"));
        await Ok(other, "DELETE Done");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* LIST (\\NonExistent \\Subscribed) \".\" Done"));
        await Ok(other, "UNSUBSCRIBE Done");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* LIST (\\NonExistent) \".\" Done"));
        // §5: the session's own changes are not reported back to it.
        await Ok(watcher, "CREATE Mine");
        await NothingPending(watcher);
    }

    [Test]
    public async Task Rfc5465FlagChangesComeAsFetchInTheSelectedMailboxAndAsUnseenElsewhere()
    {
        var address = await NewMailbox();
        await using var watcher = await Login(address);
        await using var other = await Login(address);
        await Append(other, "INBOX", "one");
        await Append(other, "Drafts", "draft");
        await Ok(watcher, "SELECT INBOX");
        Assert.That((await watcher.CommandAsync("a", "NOTIFY SET (SELECTED (MessageNew MessageExpunge FlagChange)) (MAILBOXES Drafts (MessageNew MessageExpunge FlagChange))"))[^1],
            Is.EqualTo("a OK NOTIFY completed"));
        await Ok(other, "SELECT INBOX");
        await Ok(other, "STORE 1 +FLAGS.SILENT (\\Flagged)");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))"));
        await Ok(other, "SELECT Drafts");
        await Ok(other, "STORE 1 +FLAGS.SILENT (\\Seen)");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* STATUS Drafts (UNSEEN 0 HIGHESTMODSEQ 3)"));
    }

    [Test]
    public async Task Rfc5465SelectedDelayedKeepsExpungesForACommandThatMayAnnounceThem()
    {
        var address = await NewMailbox();
        await using var watcher = await Login(address);
        await using var other = await Login(address);
        await Append(other, "INBOX", "one");
        await Append(other, "INBOX", "two");
        await Ok(watcher, "SELECT INBOX");
        Assert.That(await watcher.CommandAsync("a", "NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge))"), Is.EqualTo(new[] { "a OK NOTIFY completed" }));
        await Ok(other, "SELECT INBOX");
        await Ok(other, "STORE 1 +FLAGS.SILENT (\\Deleted)");
        await Ok(other, "EXPUNGE");
        await Ok(other, "UNSELECT"); // else its own update after APPEND could take the new message's \Recent
        await Append(other, "INBOX", "three");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* 3 EXISTS"));
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* 3 RECENT"));
        Assert.That(await watcher.CommandAsync("b", "NOOP"), Is.EqualTo(new[] { "* 1 EXPUNGE", "b OK NOOP completed" }));
    }

    [Test]
    public async Task IdleSendsWhatNotifyAsksFor()
    {
        var address = await NewMailbox();
        await using var watcher = await Login(address);
        await using var other = await Login(address);
        Assert.That(await watcher.CommandAsync("a", "NOTIFY SET (MAILBOXES Junk (MessageNew MessageExpunge))"), Is.EqualTo(new[] { "a OK NOTIFY completed" }));
        await watcher.SendAsync("i IDLE\r\n");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("+ idling"));
        await Append(other, "Junk", "spam");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("* STATUS Junk (MESSAGES 1 UIDNEXT 2)"));
        await watcher.SendAsync("DONE\r\n");
        Assert.That(await watcher.ReadLineAsync(), Is.EqualTo("i OK IDLE terminated"));
    }

    [TestCase("NOTIFY SET (SELECTED (MessageNew))", "BAD MessageNew and MessageExpunge go together")]
    [TestCase("NOTIFY SET (PERSONAL (FlagChange))", "BAD FlagChange and AnnotationChange need MessageNew and MessageExpunge")]
    [TestCase("NOTIFY SET (SELECTED (MailboxName))", "BAD only message events apply to the selected mailbox")]
    [TestCase("NOTIFY SET (SELECTED (MessageNew MessageExpunge)) (SELECTED-DELAYED (MessageNew MessageExpunge))", "BAD only one of SELECTED and SELECTED-DELAYED")]
    [TestCase("NOTIFY SET (INBOXES (MessageNew (UID) MessageExpunge))", "BAD MessageNew fetch attributes apply to the selected mailbox only")]
    [TestCase("NOTIFY SET (ALL (MessageNew MessageExpunge))", "BAD unknown mailbox specifier ALL")]
    [TestCase("NOTIFY FOO", "BAD expected NOTIFY SET or NOTIFY NONE")]
    [TestCase("NOTIFY SET (PERSONAL (MessageNew MessageExpunge AnnotationChange))", "NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] Unsupported event AnnotationChange")]
    [TestCase("NOTIFY SET (PERSONAL (MailboxMetadataChange))", "NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] Unsupported event MailboxMetadataChange")]
    public async Task Rfc5465RefusesWhatItCannotDo(string command, string answer)
    {
        await using var client = await Login(await NewMailbox());
        var lines = await client.CommandAsync("a", command);
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("a " + answer));
    }

    [Test]
    public async Task Rfc5465WatchingMoreMailboxesThanTheLimitIsRefusedWithNotificationOverflow()
    {
        await using var client = await Login(await NewMailbox());
        var creates = new StringBuilder();
        for (var i = 0; i < 1000; i++)
        {
            creates.Append($"c{i} CREATE Many.F{i}\r\n");
        }
        await client.SendAsync(creates.ToString());
        Assert.That((await client.ReadUntilTaggedAsync("c999"))[^1], Is.EqualTo("c999 OK CREATE completed"));
        // Many and its 1000 children, INBOX and the four special-use folders.
        Assert.That(await client.CommandAsync("a", "NOTIFY SET (PERSONAL (MessageNew MessageExpunge))"),
            Is.EqualTo(new[] { "a NO [NOTIFICATIONOVERFLOW] More than 1000 mailboxes to watch" }));
        Assert.That(await client.CommandAsync("b", "NOTIFY SET (MAILBOXES (Many.F1 Many.F2) (MessageNew MessageExpunge)) (PERSONAL (MailboxName))"),
            Is.EqualTo(new[] { "b OK NOTIFY completed" }));
    }

    [Test]
    public void AWatcherThatFellBehindTheEventLogLearnsItLostSome()
    {
        var signal = new MailboxSignal();
        for (var i = 0; i < MailboxSignal.Capacity + 1; i++)
        {
            signal.Record(MailboxEventKind.Created, $"f{i}", null, null);
        }
        Assert.That(signal.EventsAfter(0).Lost, Is.True);
        var (events, lost) = signal.EventsAfter(1);
        Assert.That(lost, Is.False);
        Assert.That(events, Has.Count.EqualTo(MailboxSignal.Capacity));
        Assert.That(signal.EventsAfter(signal.LastSequence).Events, Is.Empty);
    }
}
