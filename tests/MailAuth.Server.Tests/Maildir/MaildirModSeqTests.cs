using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Maildir;

/// <summary>mailauth-uidlist: mod-sequences, flags and expunged UIDs; version 1 lists still read.</summary>
[TestFixture]
public sealed class MaildirModSeqTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "mailauth-modseq-" + Guid.NewGuid().ToString("N"));
        MaildirDelivery.EnsureMaildir(_root);
    }

    [TearDown]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    private uint Append(MaildirFolder folder, string text, params string[] keywords)
    {
        var path = Path.Combine(_root, "tmp", Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, text);
        return folder.Add(path, MessageFlags.None, keywords, null);
    }

    [Test]
    public void AVersion1ListKeepsItsUidsAndStartsModSeqsThere()
    {
        File.WriteAllText(Path.Combine(_root, "cur", "100.a.host:2,S"), "a");
        File.WriteAllText(Path.Combine(_root, "cur", "101.b.host:2,"), "b");
        File.WriteAllText(Path.Combine(_root, MaildirFolder.UidListName), "mailauth-uidlist 1 1234 9\n7 100.a.host\n8 101.b.host\n");
        var folder = new MaildirFolder(_root);
        var snapshot = folder.Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(snapshot.UidValidity, Is.EqualTo(1234u));
            Assert.That(snapshot.Messages.Select(m => (m.Uid, m.ModSeq)), Is.EqualTo(new[] { (7u, 1UL), (8u, 1UL) }));
            Assert.That(snapshot.HighestModSeq, Is.EqualTo(1UL));
        });
        folder.SetFlags([8], f => f | MessageFlags.Flagged);
        // Rewritten as a version 3 index (a journal) that keeps the UIDs, flags and mod-sequences.
        Assert.That(File.ReadLines(Path.Combine(_root, MaildirFolder.UidListName)).First(), Is.EqualTo("mailauth-uidlist 3 1234"));
        var reloaded = new MaildirFolder(_root).Synchronize();
        Assert.That(reloaded.Messages.Select(m => (m.Uid, m.ModSeq, m.Flags)), Is.EqualTo(new[] { (7u, 1UL, MessageFlags.Seen), (8u, 2UL, MessageFlags.Flagged) }));
        Assert.That((reloaded.UidNext, reloaded.HighestModSeq), Is.EqualTo((9u, 2UL)));
    }

    [Test]
    public void ExpungedUidsAreKeptWithTheirModSeqAndSurviveAReload()
    {
        var folder = new MaildirFolder(_root);
        for (var i = 0; i < 6; i++)
        {
            Append(folder, $"m{i}");
        }
        folder.Expunge(m => m.Uid is 2 or 3);
        folder.Expunge(m => m.Uid == 5);
        var again = new MaildirFolder(_root);
        Assert.Multiple(() =>
        {
            Assert.That(again.Synchronize().HighestModSeq, Is.EqualTo(9UL));
            Assert.That(again.VanishedSince(7, null, 0), Is.EqualTo(new[] { (2u, 3u), (5u, 5u) }));
            Assert.That(again.VanishedSince(8, null, 0), Is.EqualTo(new[] { (5u, 5u) }));
            Assert.That(again.VanishedSince(8, [(1u, 4u)], 0), Is.Empty);
            Assert.That(again.VanishedSince(1, null, 2), Is.EqualTo(new[] { (3u, 3u), (5u, 5u) }));
        });
    }

    [Test]
    public void ManyExpungesAreMergedIntoASupersetThatNeverNamesALiveMessage()
    {
        var folder = new MaildirFolder(_root);
        for (var i = 0; i < 2100; i++)
        {
            Append(folder, "x");
        }
        // Every odd UID expunged on its own: 1050 ranges, more than are kept.
        foreach (var uid in Enumerable.Range(1, 2100).Where(u => u % 2 == 1).Select(u => (uint)u))
        {
            folder.Expunge(m => m.Uid == uid);
        }
        var vanished = new MaildirFolder(_root).VanishedSince(0, null, 0);
        var uids = vanished.SelectMany(r => Enumerable.Range((int)r.First, (int)(r.Last - r.First + 1))).ToList();
        Assert.That(uids, Is.EqualTo(Enumerable.Range(1, 2100).Where(u => u % 2 == 1)));
        Assert.That(File.ReadAllLines(Path.Combine(_root, MaildirFolder.UidListName)).Count(l => l.StartsWith("V ", StringComparison.Ordinal)), Is.LessThanOrEqualTo(1024));
    }

    [Test]
    public void AFlagChangeMadeBehindOurBackGetsANewModSeqOnRescan()
    {
        var folder = new MaildirFolder(_root);
        Append(folder, "a", "$Junk");
        var before = folder.Synchronize();
        var file = Directory.GetFiles(Path.Combine(_root, "cur")).Single();
        File.Move(file, file.Replace(":2,a", ":2,Sa", StringComparison.Ordinal));
        var after = folder.Synchronize(rescan: true);
        Assert.Multiple(() =>
        {
            Assert.That(after.HighestModSeq, Is.EqualTo(before.HighestModSeq + 1));
            Assert.That(after.Messages[0].ModSeq, Is.EqualTo(after.HighestModSeq));
            Assert.That(after.Messages[0].Flags, Is.EqualTo(MessageFlags.Seen));
            Assert.That(after.Keywords.NamesOf(after.Messages[0].OtherLetters), Is.EqualTo(new[] { "$Junk" }));
        });
    }
}
