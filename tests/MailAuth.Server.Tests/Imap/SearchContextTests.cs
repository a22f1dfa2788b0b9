namespace MailAuth.Server.Tests.Imap;

/// <summary>Searches kept up to date (RFC 5267 §4: RETURN (UPDATE), ADDTO, REMOVEFROM, CANCELUPDATE).</summary>
[TestFixture]
public sealed class SearchContextTests : SearchExtensionTestBase
{
    private const string Date = "01-Mar-2025 10:00:00 +0000";

    private Task<ImapTestClient> FourMessages() =>
        MailboxWith([.. Enumerable.Range(1, 4).Select(i => (Date, $"Subject: note {i}\n\nbody\n"))]);

    [Test]
    public async Task TheSessionsOwnChangesUpdateTheSearch()
    {
        await using var client = await FourMessages();
        Assert.That(await client.CommandAsync("s1", "SEARCH RETURN (UPDATE) SEEN"), Is.EqualTo(new[] { "* ESEARCH (TAG \"s1\")", "s1 OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("a", "STORE 1,2,4 +FLAGS.SILENT (\\Seen)"), Is.EqualTo(new[] { "* ESEARCH (TAG \"s1\") ADDTO (0 1:2,4)", "a OK STORE completed" }));
        Assert.That(await client.CommandAsync("b", "STORE 1 -FLAGS.SILENT (\\Seen)"), Is.EqualTo(new[] { "* ESEARCH (TAG \"s1\") REMOVEFROM (0 1)", "b OK STORE completed" }));
        // Flags that do not change the result say nothing.
        Assert.That(await client.CommandAsync("c", "STORE 2 +FLAGS.SILENT (\\Flagged)"), Is.EqualTo(new[] { "c OK STORE completed" }));
        await client.CommandAsync("d", "STORE 2 +FLAGS.SILENT (\\Deleted)");
        Assert.That(await client.CommandAsync("e", "EXPUNGE"), Is.EqualTo(new[] { "* ESEARCH (TAG \"s1\") REMOVEFROM (0 2)", "* 2 EXPUNGE", "e OK EXPUNGE completed" }));
        await AppendAsync(client, Date, "Subject: new\n\nbody\n", "(\\Seen)");
        Assert.That(await client.CommandAsync("f", "CANCELUPDATE \"s1\""), Is.EqualTo(new[] { "f OK CANCELUPDATE completed" }));
        Assert.That(await client.CommandAsync("g", "STORE 1 +FLAGS.SILENT (\\Seen)"), Is.EqualTo(new[] { "g OK STORE completed" }));
        Assert.That((await client.CommandAsync("h", "CANCELUPDATE \"s1\""))[^1], Does.StartWith("h BAD"));
    }

    [Test]
    public async Task ArrivalsFromAnotherSessionAreAddedAfterExists()
    {
        await using var client = await FourMessages();
        Assert.That((await client.CommandAsync("u1", "UID SEARCH RETURN (UPDATE ALL COUNT) SUBJECT fresh"))[0], Is.EqualTo("* ESEARCH (TAG \"u1\") UID COUNT 0"));
        await using (var other = await SecondSessionAsync())
        {
            await AppendAsync(other, Date, "Subject: fresh news\n\nbody\n");
            await AppendAsync(other, Date, "Subject: stale news\n\nbody\n");
        }
        var lines = await client.CommandAsync("n", "NOOP");
        Assert.That(lines[0], Is.EqualTo("* 6 EXISTS"));
        Assert.That(lines[1], Does.EndWith(" RECENT"));
        Assert.That(lines[2..], Is.EqualTo(new[] { "* ESEARCH (TAG \"u1\") UID ADDTO (0 5)", "n OK NOOP completed" }));
    }

    [Test]
    public async Task ContextsAreBoundedAndSortIsNotKeptUpToDate()
    {
        await using var client = await FourMessages();
        for (var i = 1; i <= 5; i++)
        {
            Assert.That((await client.CommandAsync($"c{i}", "SEARCH RETURN (UPDATE) ALL"))[^1], Is.EqualTo($"c{i} OK SEARCH completed"));
        }
        Assert.That((await client.CommandAsync("c6", "SEARCH RETURN (UPDATE) ALL"))[^1], Does.StartWith("c6 NO [NOUPDATE \"c6\"]"));
        Assert.That((await client.CommandAsync("d", "SORT RETURN (UPDATE) (ARRIVAL) UTF-8 ALL"))[^1], Does.StartWith("d NO [NOUPDATE \"d\"]"));
        // A new selection starts without contexts.
        await client.CommandAsync("s", "SELECT INBOX");
        Assert.That((await client.CommandAsync("e", "SEARCH RETURN (UPDATE) ALL"))[^1], Is.EqualTo("e OK SEARCH completed"));
    }
}
