namespace MailAuth.Server.Tests.Imap;

/// <summary>THREAD and UID THREAD (RFC 5256 §4) on the real server.</summary>
[TestFixture]
public sealed class ThreadTests : SearchExtensionTestBase
{
    private const string Date = "01-Mar-2025 10:00:00 +0000";

    [Test]
    public async Task ReferencesThreadsByMessageIdsAndFollowsExpunges()
    {
        await using var client = await MailboxWith(
            (Date, "Message-ID: <1@x>\nSubject: plans\nDate: Sat, 1 Mar 2025 10:00:00 +0000\n\nbody\n"),
            (Date, "Message-ID: <2@x>\nIn-Reply-To: <1@x>\nSubject: Re: plans\nDate: Sat, 1 Mar 2025 11:00:00 +0000\n\nbody\n"),
            (Date, "Message-ID: <3@x>\nReferences: <1@x> <2@x>\nSubject: Re: plans\nDate: Sat, 1 Mar 2025 12:00:00 +0000\n\nbody\n"),
            (Date, "Message-ID: <4@x>\nIn-Reply-To: <1@x> (Anna's message)\nSubject: Re: plans\nDate: Sat, 1 Mar 2025 10:30:00 +0000\n\nbody\n"),
            (Date, "Message-ID: <5@x>\nSubject: other\nDate: Sat, 1 Mar 2025 09:00:00 +0000\n\nbody\n"));
        Assert.That(await client.CommandAsync("a", "THREAD REFERENCES UTF-8 ALL"), Is.EqualTo(new[] { "* THREAD (5)(1 (4)(2 3))", "a OK THREAD completed" }));
        Assert.That((await client.CommandAsync("b", "UID THREAD REFERENCES US-ASCII NOT SUBJECT other"))[0], Is.EqualTo("* THREAD (1 (4)(2 3))"));
        await client.CommandAsync("c", "STORE 1 +FLAGS (\\Deleted)");
        await client.CommandAsync("d", "EXPUNGE");
        Assert.That((await client.CommandAsync("e", "THREAD REFERENCES UTF-8 ALL"))[0], Is.EqualTo("* THREAD (4)((3)(1 2))"));
        Assert.That((await client.CommandAsync("f", "THREAD ORDEREDSUBJECT UTF-8 ALL"))[0], Is.EqualTo("* THREAD (4)(3 (1)(2))"));
        Assert.That((await client.CommandAsync("g", "THREAD REFERENCES UTF-8 SUBJECT nowhere"))[0], Is.EqualTo("* THREAD"));
    }

    [Test]
    public async Task AHeaderLongerThanOneReadIsReadToItsEnd()
    {
        // About 10 KiB of References: the parent, named last, is past the first 8 KiB read.
        var references = string.Join(" ", Enumerable.Range(1000, 600).Select(n => $"<{n}@x.example>")) + " <1@x>";
        await using var client = await MailboxWith(
            (Date, "Message-ID: <1@x>\nSubject: a\n\nbody\n"),
            (Date, "Message-ID: <2@x>\nSubject: b\n\nbody\n"),
            (Date, $"Message-ID: <3@x>\nReferences: {references}\nSubject: c\n\n{new string('x', 20_000)}\n"));
        Assert.That((await client.CommandAsync("a", "THREAD REFERENCES UTF-8 ALL"))[0], Is.EqualTo("* THREAD (1 3)(2)"));
    }

    [TestCase("THREAD REFS UTF-8 ALL", "BAD")]
    [TestCase("THREAD REFERENCES ALL", "BAD")]
    [TestCase("THREAD REFERENCES UTF-8", "BAD")]
    [TestCase("THREAD REFERENCES KOI8-R ALL", "NO [BADCHARSET (US-ASCII UTF-8)]")]
    public async Task MalformedThreadsAreRefused(string command, string answer)
    {
        await using var client = await MailboxWith((Date, "Subject: x\n\nbody\n"));
        Assert.That((await client.CommandAsync("a", command))[^1], Does.StartWith("a " + answer));
    }
}
