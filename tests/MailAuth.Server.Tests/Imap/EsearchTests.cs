namespace MailAuth.Server.Tests.Imap;

/// <summary>SEARCH RETURN and the ESEARCH response (RFC 4731), PARTIAL (RFC 5267 §4.4, RFC 9394).</summary>
[TestFixture]
public sealed class EsearchTests : SearchExtensionTestBase
{
    private const string Date = "22-Feb-2008 17:06:21 +0200";

    private Task<ImapTestClient> SixMessages() =>
        MailboxWith([.. Enumerable.Range(1, 6).Select(i => (Date, $"Subject: m{i}\n\nbody {i}\n"))]);

    [Test]
    public async Task ReturnOptionsAnswerWithOneEsearchLine()
    {
        await using var client = await SixMessages();
        Assert.That(await client.CommandAsync("a", "SEARCH RETURN (MIN MAX COUNT ALL) ALL"),
            Is.EqualTo(new[] { "* ESEARCH (TAG \"a\") MIN 1 MAX 6 COUNT 6 ALL 1:6", "a OK SEARCH completed" }));
        Assert.That((await client.CommandAsync("b", "SEARCH RETURN () ALL"))[0], Is.EqualTo("* ESEARCH (TAG \"b\") ALL 1:6"));
        await client.CommandAsync("c", "STORE 2,4:5 +FLAGS (\\Seen)");
        Assert.That((await client.CommandAsync("d", "UID SEARCH RETURN (ALL COUNT) SEEN"))[0], Is.EqualTo("* ESEARCH (TAG \"d\") UID COUNT 3 ALL 2,4:5"));
        Assert.That((await client.CommandAsync("e", "SEARCH RETURN (MIN) UNSEEN"))[0], Is.EqualTo("* ESEARCH (TAG \"e\") MIN 1"));
    }

    [Test]
    public async Task NothingFoundGivesOnlyTheCount()
    {
        await using var client = await SixMessages();
        Assert.That(await client.CommandAsync("a", "SEARCH RETURN (MIN MAX ALL COUNT) SUBJECT nowhere"),
            Is.EqualTo(new[] { "* ESEARCH (TAG \"a\") COUNT 0", "a OK SEARCH completed" }));
        Assert.That((await client.CommandAsync("b", "UID SEARCH RETURN () 1000"))[0], Is.EqualTo("* ESEARCH (TAG \"b\") UID"));
    }

    [Test]
    public async Task PartialSelectsResultPositionsFromEitherEnd()
    {
        await using var client = await SixMessages();
        Assert.That((await client.CommandAsync("a", "SEARCH RETURN (PARTIAL 4:2) 1:2,4:6"))[0], Is.EqualTo("* ESEARCH (TAG \"a\") PARTIAL (2:4 2,4:5)"));
        Assert.That((await client.CommandAsync("b", "SEARCH RETURN (PARTIAL -1:-2) ALL"))[0], Is.EqualTo("* ESEARCH (TAG \"b\") PARTIAL (-1:-2 5:6)"));
        Assert.That((await client.CommandAsync("c", "SEARCH RETURN (PARTIAL 7:9) ALL"))[0], Is.EqualTo("* ESEARCH (TAG \"c\") PARTIAL (7:9 NIL)"));
    }

    [TestCase("SEARCH RETURN (PARTIAL 1) ALL")]
    [TestCase("SEARCH RETURN (PARTIAL 1:*) ALL")]
    [TestCase("SEARCH RETURN (PARTIAL 0:3) ALL")]
    [TestCase("SEARCH RETURN (PARTIAL -1:3) ALL")]
    [TestCase("SEARCH RETURN (PARTIAL 1:2 ALL) ALL")]
    [TestCase("SEARCH RETURN (SAVE) ALL")]
    [TestCase("SEARCH RETURN (MIN ALL")]
    public async Task MalformedReturnOptionsAreBad(string command)
    {
        await using var client = await SixMessages();
        Assert.That((await client.CommandAsync("a", command))[^1], Does.StartWith("a BAD"));
    }
}
