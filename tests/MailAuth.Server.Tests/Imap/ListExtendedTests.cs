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
}
