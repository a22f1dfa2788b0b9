using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// LSUB's \Noselect parents (RFC 3501 §6.3.9), LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154)
/// and LIST-STATUS (RFC 5819) as transcripts; the RFCs' examples use "/", this server ".".
/// </summary>
[TestFixture]
public sealed class ListExtendedTests
{
    private const string Password = "list-pass 7";
    private RunningServer _server = null!;
    private int _next;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", "lists.example")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    /// <summary>A fresh mailbox logged in, with the folders <paramref name="create"/> and the subscriptions <paramref name="subscribe"/>.</summary>
    private async Task<ImapTestClient> NewMailbox(string[] create, string[] subscribe, params string[] messages)
    {
        var address = $"lister{Interlocked.Increment(ref _next)}@lists.example";
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
        foreach (var message in messages)
        {
            await ExternalClient.DeliverAsync(_server, address, Encoding.UTF8.GetBytes(message));
        }
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        foreach (var name in create)
        {
            Assert.That(await client.CommandAsync("c", $"CREATE {name}"), Is.EqualTo(new[] { "c OK CREATE completed" }));
        }
        foreach (var name in subscribe)
        {
            Assert.That(await client.CommandAsync("s", $"SUBSCRIBE {name}"), Is.EqualTo(new[] { "s OK SUBSCRIBE completed" }));
        }
        return client;
    }

    [Test]
    public async Task LsubShowsAnUnsubscribedParentOfASubscribedChildAsNoselect()
    {
        await using var client = await NewMailbox(["imaptest.test", "imaptest.test2.test", "imaptest.test3.test3"], ["imaptest.test", "imaptest.test2.test", "imaptest.test3.test3"]);
        Assert.That(await client.CommandAsync("a", "UNSUBSCRIBE imaptest.test"), Is.EqualTo(new[] { "a OK UNSUBSCRIBE completed" }));
        Assert.That(await client.CommandAsync("b", "SUBSCRIBE imaptest.test3"), Is.EqualTo(new[] { "b OK SUBSCRIBE completed" }));
        Assert.That(await client.CommandAsync("c", "LSUB \"\" imaptest.%"), Is.EqualTo(new[]
        {
            "* LSUB (\\Noselect) \".\" imaptest.test2",
            "* LSUB (\\HasChildren) \".\" imaptest.test3",
            "c OK LSUB completed",
        }));
        // §6.3.9's own example: "foo/bar" subscribed, "foo" not; "%" returns foo, flagged \Noselect.
        Assert.That(await client.CommandAsync("d", "LSUB \"\" %"), Is.EqualTo(new[]
        {
            "* LSUB (\\HasNoChildren) \".\" INBOX",
            "* LSUB (\\HasNoChildren \\Archive) \".\" Archive",
            "* LSUB (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LSUB (\\HasNoChildren \\Junk) \".\" Junk",
            "* LSUB (\\HasNoChildren \\Sent) \".\" Sent",
            "* LSUB (\\HasNoChildren \\Trash) \".\" Trash",
            "* LSUB (\\Noselect) \".\" imaptest",
            "d OK LSUB completed",
        }));
        Assert.That(await client.CommandAsync("e", "LSUB \"\" *test"), Is.EqualTo(new[] { "* LSUB (\\HasNoChildren) \".\" imaptest.test2.test", "e OK LSUB completed" }));
        Assert.That(await client.CommandAsync("f", "LSUB imaptest. *3"), Is.EqualTo(new[]
        {
            "* LSUB (\\HasChildren) \".\" imaptest.test3",
            "* LSUB (\\HasNoChildren) \".\" imaptest.test3.test3",
            "f OK LSUB completed",
        }));
    }

    /// <summary>RFC 5258 §5's mailboxes: Fruit/Peach is subscribed but does not exist.</summary>
    private Task<ImapTestClient> RfcExampleMailbox() => NewMailbox(
        ["Fruit.Apple", "Fruit.Banana", "Tofu", "Vegetable.Broccoli", "Vegetable.Corn", "Fruit.Peach"],
        ["Fruit.Banana", "Fruit.Peach", "Vegetable", "Vegetable.Broccoli"]);

    private static async Task Unsubscribe(ImapTestClient client, params string[] names)
    {
        foreach (var name in names)
        {
            Assert.That(await client.CommandAsync("u", $"UNSUBSCRIBE {name}"), Is.EqualTo(new[] { "u OK UNSUBSCRIBE completed" }));
        }
    }

    [Test]
    public async Task Rfc5258SubscribedSelectionListsSubscribedNamesWhetherOrNotTheyExist()
    {
        await using var client = await RfcExampleMailbox();
        await Unsubscribe(client, "Archive", "Drafts", "Junk", "Sent", "Trash");
        Assert.That(await client.CommandAsync("d", "DELETE Fruit.Peach"), Is.EqualTo(new[] { "d OK DELETE completed" }));
        Assert.That(await client.CommandAsync("a", "LIST (SUBSCRIBED) \"\" \"*\""), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren \\Subscribed) \".\" INBOX",
            "* LIST (\\HasNoChildren \\Subscribed) \".\" Fruit.Banana",
            "* LIST (\\NonExistent \\Subscribed) \".\" Fruit.Peach",
            "* LIST (\\HasChildren \\Subscribed) \".\" Vegetable",
            "* LIST (\\HasNoChildren \\Subscribed) \".\" Vegetable.Broccoli",
            "a OK LIST completed",
        }));
        Assert.That(await client.CommandAsync("b", "LIST \"\" \"%\" RETURN (CHILDREN)"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren) \".\" INBOX",
            "* LIST (\\HasNoChildren \\Archive) \".\" Archive",
            "* LIST (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LIST (\\HasChildren) \".\" Fruit",
            "* LIST (\\HasNoChildren \\Junk) \".\" Junk",
            "* LIST (\\HasNoChildren \\Sent) \".\" Sent",
            "* LIST (\\HasNoChildren) \".\" Tofu",
            "* LIST (\\HasNoChildren \\Trash) \".\" Trash",
            "* LIST (\\HasChildren) \".\" Vegetable",
            "b OK LIST completed",
        }));
        // RFC 5258 §5: parents of subscribed children "%" does not reach carry CHILDINFO.
        Assert.That(await client.CommandAsync("c", "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren \\Subscribed) \".\" INBOX",
            "* LIST (\\HasChildren) \".\" Fruit (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "* LIST (\\HasChildren \\Subscribed) \".\" Vegetable (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "c OK LIST completed",
        }));
        // RFC 5258 §3.5: a pattern that matches the child itself needs no CHILDINFO for it.
        Assert.That(await client.CommandAsync("e", "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"Fruit\" \"Fruit.Banana\")"), Is.EqualTo(new[]
        {
            "* LIST (\\HasChildren) \".\" Fruit (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "* LIST (\\HasNoChildren \\Subscribed) \".\" Fruit.Banana",
            "e OK LIST completed",
        }));
        Assert.That(await client.CommandAsync("f", "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"Fruit\" \"Fruit.Banana\" \"Fruit.Peach\")"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren \\Subscribed) \".\" Fruit.Banana",
            "* LIST (\\NonExistent \\Subscribed) \".\" Fruit.Peach",
            "f OK LIST completed",
        }));
    }

    [Test]
    public async Task Rfc5258MultiplePatternsAndTheSubscribedReturnOption()
    {
        await using var client = await RfcExampleMailbox();
        Assert.That(await client.CommandAsync("a", "LIST \"\" (\"INBOX\" \"Drafts\" \"Sent.%\" Vegetable.*)"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren) \".\" INBOX",
            "* LIST (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LIST (\\HasNoChildren) \".\" Vegetable.Broccoli",
            "* LIST (\\HasNoChildren) \".\" Vegetable.Corn",
            "a OK LIST completed",
        }));
        Assert.That(await client.CommandAsync("b", "LIST \"\" \"Fruit.*\" RETURN (SUBSCRIBED CHILDREN)"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren) \".\" Fruit.Apple",
            "* LIST (\\HasNoChildren \\Subscribed) \".\" Fruit.Banana",
            "* LIST (\\HasNoChildren \\Subscribed) \".\" Fruit.Peach",
            "b OK LIST completed",
        }));
        Assert.That(await client.CommandAsync("c", "LIST (REMOTE) \"\" Tofu RETURN ()"), Is.EqualTo(new[] { "* LIST (\\HasNoChildren) \".\" Tofu", "c OK LIST completed" }));
        Assert.That(await client.CommandAsync("d", "LIST () Fruit. %"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren) \".\" Fruit.Apple",
            "* LIST (\\HasNoChildren) \".\" Fruit.Banana",
            "* LIST (\\HasNoChildren) \".\" Fruit.Peach",
            "d OK LIST completed",
        }));
    }

    [TestCase("LIST (imaptest) \"\" \"\"", "unknown LIST selection option IMAPTEST")]
    [TestCase("LIST (RECURSIVEMATCH) \"\" \"*\"", "RECURSIVEMATCH needs another selection option such as SUBSCRIBED")]
    [TestCase("LIST (RECURSIVEMATCH REMOTE) \"\" \"*\"", "RECURSIVEMATCH needs another selection option such as SUBSCRIBED")]
    [TestCase("LIST \"\" \"*\" RETURN (imaptest)", "unknown LIST return option IMAPTEST")]
    [TestCase("LIST \"\" \"*\" RETURN (STATUS (MESSAGES SIZE))", "unknown STATUS item 'SIZE'")]
    [TestCase("LIST \"\" \"*\" RETURN CHILDREN", "expected '('")]
    [TestCase("LIST \"\" () ", "expected a mailbox pattern")]
    public async Task Rfc5258RefusesUnknownOptionsWithBad(string command, string reason)
    {
        await using var client = await NewMailbox([], []);
        var lines = await client.CommandAsync("a", command);
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("a BAD ").And.Contains(reason));
    }

    /// <summary>MailKit asks exactly this to find the Sent, Drafts, Trash and Junk folders.</summary>
    [Test]
    public async Task Rfc6154SpecialUseSelectionListsOnlySpecialUseFolders()
    {
        await using var client = await NewMailbox(["Reports", "Sent.2024"], []);
        Assert.That(await client.CommandAsync("a", "LIST (SPECIAL-USE) \"\" \"*\""), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren \\Archive) \".\" Archive",
            "* LIST (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LIST (\\HasNoChildren \\Junk) \".\" Junk",
            "* LIST (\\HasChildren \\Sent) \".\" Sent",
            "* LIST (\\HasNoChildren \\Trash) \".\" Trash",
            "a OK LIST completed",
        }));
        Assert.That(await client.CommandAsync("b", "LIST \"\" \"S*\" RETURN (SPECIAL-USE)"), Is.EqualTo(new[]
        {
            "* LIST (\\HasChildren \\Sent) \".\" Sent",
            "* LIST (\\HasNoChildren) \".\" Sent.2024",
            "b OK LIST completed",
        }));
        Assert.That(await client.CommandAsync("c", "LIST (SPECIAL-USE SUBSCRIBED) \"\" \"*\" RETURN (SUBSCRIBED)"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren \\Archive \\Subscribed) \".\" Archive",
            "* LIST (\\HasNoChildren \\Drafts \\Subscribed) \".\" Drafts",
            "* LIST (\\HasNoChildren \\Junk \\Subscribed) \".\" Junk",
            "* LIST (\\HasChildren \\Sent \\Subscribed) \".\" Sent",
            "* LIST (\\HasNoChildren \\Trash \\Subscribed) \".\" Trash",
            "c OK LIST completed",
        }));
    }

    /// <summary>RFC 5819 §5's example, with a \NonExistent subscription standing in for its \NoSelect "bar".</summary>
    [Test]
    public async Task Rfc5819ListStatusFollowsEachSelectableMailboxWithItsStatus()
    {
        await using var client = await NewMailbox(["foo"], [], Message("one"), Message("two"));
        await client.CommandAsync("s", "SELECT INBOX");
        await client.CommandAsync("t", "STORE 1 +FLAGS (\\Seen)");
        await client.CommandAsync("u", "UNSELECT");
        var append = "Subject: three\r\n\r\nx\r\n";
        Assert.That((await client.CommandAsync("p", $"APPEND foo {{{append.Length}+}}\r\n{append}"))[^1], Does.StartWith("p OK"));
        Assert.That(await client.CommandAsync("q", "CREATE bar"), Is.EqualTo(new[] { "q OK CREATE completed" }));
        Assert.That(await client.CommandAsync("r", "SUBSCRIBE bar"), Is.EqualTo(new[] { "r OK SUBSCRIBE completed" }));
        Assert.That(await client.CommandAsync("d", "DELETE bar"), Is.EqualTo(new[] { "d OK DELETE completed" }));
        Assert.That(await client.CommandAsync("a", "LIST (SUBSCRIBED) \"\" (INBOX foo bar) RETURN (STATUS (MESSAGES UNSEEN))"), Is.EqualTo(new[]
        {
            "* LIST (\\HasNoChildren \\Subscribed) \".\" INBOX",
            "* STATUS INBOX (MESSAGES 2 UNSEEN 1)",
            "* LIST (\\NonExistent \\Subscribed) \".\" bar",
            "a OK LIST completed",
        }));
        Assert.That(await client.CommandAsync("b", "LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))"), Has.Member("* STATUS foo (MESSAGES 1 UNSEEN 1 UIDNEXT 2)"));
    }

    private static string Message(string subject) => $"From: a@lists.example\r\nTo: b@lists.example\r\nSubject: {subject}\r\n\r\ntext\r\n";
}
