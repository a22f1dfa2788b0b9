namespace MailAuth.Server.Tests.Imap;

/// <summary>SORT and UID SORT (RFC 5256 §3), SORT=DISPLAY (RFC 5957) and ESORT (RFC 5267 §3).</summary>
[TestFixture]
public sealed class SortTests : SearchExtensionTestBase
{
    private static (string, string) At(string internalDate, string header) => (internalDate, header + "\n\nbody\n");

    [Test]
    public async Task SubjectSortUsesTheBaseSubjectThenTheSequenceNumber()
    {
        await using var client = await MailboxWith(
            At("01-Mar-2025 10:00:00 +0000", "Subject: b"),
            At("01-Mar-2025 10:00:00 +0000", "Subject: Re: [list] A"),
            At("01-Mar-2025 10:00:00 +0000", "Subject: =?utf-8?q?Fwd:_a?="),
            At("01-Mar-2025 10:00:00 +0000", "Subject: [fwd: B]"),
            At("01-Mar-2025 10:00:00 +0000", "X-No-Subject: 1"));
        Assert.That(await client.CommandAsync("a", "SORT (SUBJECT) UTF-8 ALL"), Is.EqualTo(new[] { "* SORT 5 2 3 1 4", "a OK SORT completed" }));
        Assert.That((await client.CommandAsync("b", "SORT (REVERSE SUBJECT) US-ASCII ALL"))[0], Is.EqualTo("* SORT 1 4 2 3 5"));
        Assert.That((await client.CommandAsync("c", "UID SORT (SUBJECT) UTF-8 NOT 5"))[0], Is.EqualTo("* SORT 2 3 1 4"));
    }

    [Test]
    public async Task DateFallsBackToTheInternalDateAndComparesInUtc()
    {
        await using var client = await MailboxWith(
            At("01-Mar-2025 12:00:00 +0000", "Date: Sat, 1 Mar 2025 12:00:00 +0200"), // 10:00 UTC
            At("01-Mar-2025 09:30:00 +0000", "Subject: no date"),
            At("01-Mar-2025 08:00:00 +0000", "Date: Sat, 1 Mar 2025 10:00:00 +0000"),
            At("01-Mar-2025 07:00:00 +0000", "Date: not a date"));
        Assert.That((await client.CommandAsync("a", "SORT (DATE) UTF-8 ALL"))[0], Is.EqualTo("* SORT 4 2 1 3"));
        Assert.That((await client.CommandAsync("b", "SORT (ARRIVAL) UTF-8 ALL"))[0], Is.EqualTo("* SORT 4 3 2 1"));
        Assert.That((await client.CommandAsync("c", "SORT (REVERSE DATE SIZE) UTF-8 ALL"))[0], Is.EqualTo("* SORT 1 3 2 4"));
    }

    [Test]
    public async Task AddressKeysUseTheFirstMailboxAndDisplayKeysTheName()
    {
        await using var client = await MailboxWith(
            At("01-Mar-2025 10:00:00 +0000", "From: Zed <alice@b.example>, bob@a.example\nTo: =?utf-8?q?Anna?= <zz@x.example>"),
            At("01-Mar-2025 10:00:00 +0000", "From: carl@a.example\nTo: team: bb@x.example;"),
            At("01-Mar-2025 10:00:00 +0000", "From: \"Bea\" <BOB@c.example>\nTo: mm@x.example"));
        Assert.That((await client.CommandAsync("a", "SORT (FROM) UTF-8 ALL"))[0], Is.EqualTo("* SORT 1 3 2"));
        Assert.That((await client.CommandAsync("b", "SORT (DISPLAYFROM) UTF-8 ALL"))[0], Is.EqualTo("* SORT 3 2 1"));
        Assert.That((await client.CommandAsync("c", "SORT (DISPLAYTO) UTF-8 ALL"))[0], Is.EqualTo("* SORT 1 3 2"));
        Assert.That((await client.CommandAsync("d", "SORT (TO) UTF-8 ALL"))[0], Is.EqualTo("* SORT 3 2 1"));
        Assert.That((await client.CommandAsync("e", "SORT (CC REVERSE ARRIVAL) UTF-8 ALL"))[0], Is.EqualTo("* SORT 1 2 3"));
    }

    [Test]
    public async Task ReturnOptionsGiveAnEsearchInSortOrder()
    {
        await using var client = await MailboxWith(
            At("01-Mar-2025 10:00:00 +0000", "Subject: c"),
            At("01-Mar-2025 10:00:00 +0000", "Subject: a"),
            At("01-Mar-2025 10:00:00 +0000", "Subject: b"),
            At("01-Mar-2025 10:00:00 +0000", "Subject: d"));
        Assert.That(await client.CommandAsync("a", "SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL"),
            Is.EqualTo(new[] { "* ESEARCH (TAG \"a\") MIN 2 MAX 4 COUNT 4 ALL 2:3,1,4", "a OK SORT completed" }));
        Assert.That((await client.CommandAsync("b", "UID SORT RETURN (PARTIAL 2:3) (SUBJECT) UTF-8 ALL"))[0], Is.EqualTo("* ESEARCH (TAG \"b\") UID PARTIAL (2:3 3,1)"));
    }

    [TestCase("SORT SUBJECT UTF-8 ALL", "BAD")]
    [TestCase("SORT () UTF-8 ALL", "BAD")]
    [TestCase("SORT (REVERSE) UTF-8 ALL", "BAD")]
    [TestCase("SORT (SUBJECT BOGUS) UTF-8 ALL", "BAD")]
    [TestCase("SORT (SUBJECT) ALL", "BAD")]
    [TestCase("SORT (SUBJECT) KOI8-R ALL", "NO [BADCHARSET (US-ASCII UTF-8)]")]
    public async Task MalformedSortsAreRefused(string command, string answer)
    {
        await using var client = await MailboxWith(At("01-Mar-2025 10:00:00 +0000", "Subject: x"));
        Assert.That((await client.CommandAsync("a", command))[^1], Does.StartWith("a " + answer));
    }
}
