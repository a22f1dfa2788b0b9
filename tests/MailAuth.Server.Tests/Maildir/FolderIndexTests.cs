using System.Text;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Maildir;

/// <summary>
/// The folder index (mailauth-uidlist version 3): appended to, not rewritten; a torn last record
/// ignored; changes made behind the server's back found; UIDVALIDITY and UIDs kept across restarts.
/// </summary>
[TestFixture]
public sealed class FolderIndexTests
{
    private string _root = "";

    private string IndexPath => Path.Combine(_root, MaildirFolder.UidListName);

    private string Cur => Path.Combine(_root, "cur");

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "mailauth-index-" + Guid.NewGuid().ToString("N"));
        MaildirDelivery.EnsureMaildir(_root);
    }

    [TearDown]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    private uint Append(MaildirFolder folder, string text, MessageFlags flags = MessageFlags.None, params string[] keywords)
    {
        var path = Path.Combine(_root, "tmp", Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, text);
        return folder.Add(path, flags, keywords, null);
    }

    /// <summary>The state a client can see: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and each message.</summary>
    private static string Describe(FolderSnapshot snapshot) =>
        $"{snapshot.UidValidity} {snapshot.UidNext} {snapshot.HighestModSeq}: "
        + string.Join(", ", snapshot.Messages.Select(m => $"{m.Uid}/{m.ModSeq}/{m.Flags}/{m.OtherLetters}/{m.Size}/{m.InternalDate.UtcTicks}/{m.FileName}"));

    [Test]
    public void AddingAMessageAppendsARecordAndLeavesTheRestOfTheIndexAlone()
    {
        var folder = new MaildirFolder(_root);
        for (var i = 0; i < 20; i++)
        {
            Append(folder, $"message {i}");
        }
        var before = File.ReadAllBytes(IndexPath);
        Append(folder, "one more");
        folder.SetFlags([3], f => f | MessageFlags.Seen);
        var after = File.ReadAllBytes(IndexPath);
        Assert.Multiple(() =>
        {
            Assert.That(after.AsSpan(0, before.Length).SequenceEqual(before), Is.True, "the earlier records are untouched");
            Assert.That(after.Length - before.Length, Is.LessThan(400), "an add and a flag change cost a few records, not the whole list");
            Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(folder.Synchronize())));
        });
    }

    [Test]
    public void ATornLastRecordIsIgnoredAndCutOffBeforeTheNextAppend()
    {
        var folder = new MaildirFolder(_root);
        Append(folder, "a");
        Append(folder, "b");
        var before = folder.Synchronize();
        // kill -9 in the middle of an append: half a record, no line end.
        File.AppendAllText(IndexPath, "1b2c3d4e A 3 9 1 6393");
        var reloaded = new MaildirFolder(_root);
        Assert.That(Describe(reloaded.Synchronize()), Is.EqualTo(Describe(before)));
        Assert.That(Append(reloaded, "c"), Is.EqualTo(3u));
        // A whole line whose checksum does not match (a torn write the file system filled with other bytes) is ignored too.
        File.AppendAllText(IndexPath, "00000000 F 1 99 :2,S\n");
        var again = new MaildirFolder(_root).Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(again.UidValidity, Is.EqualTo(before.UidValidity));
            Assert.That(again.Messages.Select(m => (m.Uid, m.Flags)), Is.EqualTo(new[] { (1u, MessageFlags.None), (2u, MessageFlags.None), (3u, MessageFlags.None) }));
            Assert.That(File.ReadLines(IndexPath).Count(l => l.Contains(" A 3 ", StringComparison.Ordinal)), Is.EqualTo(1));
        });
    }

    [Test]
    public void DamageBeforeWholeRecordsStartsANewUidEpochRatherThanReuseUids()
    {
        var folder = new MaildirFolder(_root);
        Append(folder, "a");
        Append(folder, "b");
        var validity = folder.Synchronize().UidValidity;
        var lines = File.ReadAllLines(IndexPath);
        lines[1] = "ffffffff" + lines[1][8..];
        File.WriteAllLines(IndexPath, lines);
        var reloaded = new MaildirFolder(_root).Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(reloaded.UidValidity, Is.Not.EqualTo(validity));
            Assert.That(reloaded.Messages, Has.Count.EqualTo(2));
        });
    }

    [Test]
    public void ACrashBetweenFileChangesAndTheIndexAppendIsRepairedOnTheNextStart()
    {
        var folder = new MaildirFolder(_root);
        Append(folder, "a");
        Append(folder, "b");
        Append(folder, "c");
        var before = folder.Synchronize();
        // What a crash leaves: a rename, a deletion and a new file in cur/ that the index does not know.
        var second = Path.Combine(Cur, before.Messages[1].FileName);
        File.Move(second, second + "S");
        File.Delete(Path.Combine(Cur, before.Messages[2].FileName));
        File.WriteAllText(Path.Combine(Cur, "1700000000.crash.host:2,F"), "d");
        var after = new MaildirFolder(_root);
        var snapshot = after.Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(snapshot.UidValidity, Is.EqualTo(before.UidValidity));
            Assert.That(snapshot.Messages.Select(m => (m.Uid, m.Flags)), Is.EqualTo(new[] { (1u, MessageFlags.None), (2u, MessageFlags.Seen), (4u, MessageFlags.Flagged) }));
            Assert.That(snapshot.Messages[1].ModSeq, Is.GreaterThan(before.HighestModSeq));
            Assert.That(after.VanishedSince(before.HighestModSeq, null, 0), Is.EqualTo(new[] { (3u, 3u) }));
            Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(snapshot)), "the repair is in the index");
        });
    }

    [Test]
    public void ChangesByAnotherProgramAreSeenAtTheNextSynchronisation()
    {
        var folder = new MaildirFolder(_root);
        Append(folder, "a");
        Append(folder, "b");
        var before = folder.Synchronize();
        File.WriteAllText(Path.Combine(_root, "new", "1700000001.dropped.host"), "dropped");
        var file = Path.Combine(Cur, before.Messages[0].FileName);
        File.Move(file, file + "T");
        File.Delete(Path.Combine(Cur, before.Messages[1].FileName));
        var after = folder.Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(after.Messages.Select(m => (m.Uid, m.Flags)), Is.EqualTo(new[] { (1u, MessageFlags.Deleted), (3u, MessageFlags.None) }));
            Assert.That(after.Messages[0].ModSeq, Is.GreaterThan(before.HighestModSeq));
            Assert.That(after.Version, Is.GreaterThan(before.Version));
            Assert.That(folder.VanishedSince(before.HighestModSeq, null, 0), Is.EqualTo(new[] { (2u, 2u) }));
            Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(after)));
        });
    }

    [Test]
    public void ARestartTrustsTheIndexWhileCurIsUnchangedAndARescanStillFindsWhatWasHidden()
    {
        var folder = new MaildirFolder(_root);
        Append(folder, "a", MessageFlags.Seen, "$Label1");
        Append(folder, "bb", MessageFlags.Answered);
        var before = folder.Synchronize();
        // A file slipped into cur/ with its directory time put back: only the index can tell
        // whether it was read, so a restart that does not see it did not read cur/.
        var stamp = Directory.GetLastWriteTimeUtc(Cur);
        File.WriteAllText(Path.Combine(Cur, "1700000002.hidden.host:2,"), "hidden");
        Directory.SetLastWriteTimeUtc(Cur, stamp);
        var restarted = new MaildirFolder(_root);
        Assert.That(Describe(restarted.Synchronize()), Is.EqualTo(Describe(before)));
        var rescanned = restarted.Synchronize(rescan: true);
        Assert.That(rescanned.Messages.Select(m => m.Uid), Is.EqualTo(new uint[] { 1, 2, 3 }));
    }

    [Test]
    public void AVersion2ListIsMigratedWithItsUidsModSeqsAndUidvalidity()
    {
        File.WriteAllText(Path.Combine(Cur, "100.a.host:2,S"), "a");
        File.WriteAllText(Path.Combine(Cur, "101.b.host:2,F"), "bb");
        File.WriteAllText(IndexPath, "mailauth-uidlist 2 4321 12 30\n5 20 :2,S 100.a.host\n9 30 :2,F 101.b.host\nV 1:4 10\n");
        var folder = new MaildirFolder(_root);
        var snapshot = folder.Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That((snapshot.UidValidity, snapshot.UidNext, snapshot.HighestModSeq), Is.EqualTo((4321u, 12u, 30UL)));
            Assert.That(snapshot.Messages.Select(m => (m.Uid, m.ModSeq, m.Size)), Is.EqualTo(new[] { (5u, 20UL, 1L), (9u, 30UL, 2L) }));
            Assert.That(folder.VanishedSince(0, null, 0), Is.EqualTo(new[] { (1u, 4u) }));
            Assert.That(File.ReadLines(IndexPath).First(), Is.EqualTo("mailauth-uidlist 3 4321"));
            Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(snapshot)));
        });
    }

    [Test]
    public void ConcurrentSessionsNeverLoseNorRenumberAMessage()
    {
        var folders = new MaildirFolders();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var folder = folders.Get(_root);
            for (var i = 0; i < 40; i++)
            {
                var uid = Append(folder, $"writer {w} message {i}");
                folder.SetFlags([uid], f => f | MessageFlags.Flagged);
                folder.Synchronize();
                if (i % 10 == 9)
                {
                    folder.Expunge(m => m.Uid == uid);
                }
            }
        }));
        var delivery = Task.Run(() =>
        {
            for (var i = 0; i < 40; i++)
            {
                File.WriteAllText(Path.Combine(_root, "new", $"17000000{i:00}.delivered{i}.host"), $"delivered {i}");
                folders.Get(_root).Synchronize();
            }
        });
        Task.WaitAll([.. writers, delivery]);
        var live = folders.Get(_root).Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(live.Messages, Has.Count.EqualTo((4 * 36) + 40));
            Assert.That(live.Messages.Select(m => m.Uid), Is.Ordered.Ascending.And.Unique);
            Assert.That(live.Messages.Select(m => m.FileName), Is.EquivalentTo(Directory.GetFiles(Cur).Select(Path.GetFileName)));
            Assert.That(live.UidNext, Is.EqualTo((uint)(4 * 40) + 40 + 1));
            Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(live)), "the index on disk says what the sessions saw");
        });
    }

    [Test]
    public void TheJournalIsCompactedOnceItOutgrowsTheFolder()
    {
        var folder = new MaildirFolder(_root);
        var uid = Append(folder, "a");
        for (var i = 0; i < 2100; i++)
        {
            folder.SetFlags([uid], f => f ^ MessageFlags.Seen);
        }
        var snapshot = folder.Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadLines(IndexPath).Count(), Is.LessThan(1000), "4,200 records appended, compacted on the way");
            Assert.That(snapshot.HighestModSeq, Is.EqualTo(2102UL));
            Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(snapshot)));
        });
        Assert.That(Encoding.UTF8.GetString(File.ReadAllBytes(IndexPath)).Split('\n')[0], Is.EqualTo($"mailauth-uidlist 3 {snapshot.UidValidity}"));
    }

    [Test]
    public void CopyKeepsFlagsKeywordsAndDatesWithOneAppendForTheBatch()
    {
        var source = new MaildirFolder(_root);
        var targetPath = Path.Combine(_root, ".Target");
        MaildirDelivery.EnsureMaildir(targetPath);
        var target = new MaildirFolder(targetPath);
        target.Synchronize();
        for (var i = 0; i < 5; i++)
        {
            Append(source, $"m{i}", MessageFlags.Seen, "$Work");
        }
        var targetIndex = Path.Combine(targetPath, MaildirFolder.UidListName);
        var linesBefore = File.ReadLines(targetIndex).Count();
        var pairs = source.CopyTo(target, [1, 3, 5]);
        var copied = target.Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(pairs, Is.EqualTo(new[] { (1u, 1u), (3u, 2u), (5u, 3u) }));
            Assert.That(File.ReadLines(targetIndex).Count() - linesBefore, Is.EqualTo(4), "three records and one state record");
            Assert.That(copied.Messages.Select(m => target.Keywords.NamesOf(m.OtherLetters).Single()), Is.All.EqualTo("$Work"));
            Assert.That(copied.Messages.Select(m => m.InternalDate), Is.EqualTo(source.Synchronize().Messages.Where(m => m.Uid % 2 == 1).Select(m => m.InternalDate)));
            Assert.That(copied.Messages.Select(m => File.ReadAllText(target.FilePathOf(m.Uid)!)), Is.EqualTo(new[] { "m0", "m2", "m4" }));
        });
    }
}
