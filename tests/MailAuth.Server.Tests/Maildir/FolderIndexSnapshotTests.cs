using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Maildir;

/// <summary>
/// The binary snapshot of the folder index (mailauth-uidlist.snapshot): a restart reads it and the
/// journal records after it to exactly the state the journal alone gives; a torn, garbled or stale
/// snapshot, a journal cut by a crash, and changes made behind the server's back never cost a UID
/// its message nor reorder the UIDs.
/// </summary>
[TestFixture]
public sealed class FolderIndexSnapshotTests
{
    private string _root = "";

    private string SnapshotPath => Path.Combine(_root, FolderIndexSnapshot.FileName);

    private string JournalPath => Path.Combine(_root, MaildirFolder.UidListName);

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "mailauth-snapshot-" + Guid.NewGuid().ToString("N"));
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

    private static string Describe(FolderSnapshot snapshot) =>
        $"{snapshot.UidValidity} {snapshot.UidNext} {snapshot.HighestModSeq} {snapshot.Unseen} {snapshot.FirstUnseen}: "
        + string.Join(", ", snapshot.Messages.Select(m => $"{m.Uid}/{m.ModSeq}/{m.Flags}/{m.OtherLetters}/{m.Size}/{m.InternalDate.UtcTicks}/{m.FileName}"));

    /// <summary>A folder whose snapshot is followed by every kind of journal record: adds, flag changes, keywords, expunges.</summary>
    private MaildirFolder Populated()
    {
        var folder = new MaildirFolder(_root);
        for (var i = 0; i < 40; i++)
        {
            Append(folder, $"Subject: {i}\r\n\r\nbody {i}\r\n", i % 3 == 0 ? MessageFlags.Seen : MessageFlags.None, i % 7 == 0 ? ["$Important"] : []);
        }
        folder.SetFlags([2, 5, 9], f => f | MessageFlags.Flagged | MessageFlags.Seen);
        folder.Expunge(m => m.Uid is 4 or 20 or 21 or 22);
        folder.Store([30], new FlagChange(FlagOperation.Add, MessageFlags.Answered, ["Work"]), unchangedSince: null);
        return folder;
    }

    [Test]
    public void ARestartFromTheSnapshotGivesTheJournalsStateAndAJournalAloneWritesTheSnapshotAgain()
    {
        var expected = Describe(Populated().Synchronize());
        Assert.That(File.Exists(SnapshotPath), Is.True, "the first compaction wrote a snapshot");

        var restarted = new MaildirFolder(_root).Synchronize();
        Assert.That(Describe(restarted), Is.EqualTo(expected), "snapshot + the journal's newer records");
        Assert.That(restarted.Messages.Select(m => m.Uid), Is.Ordered.Ascending.And.Unique);

        File.Delete(SnapshotPath);
        Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(expected), "the journal alone");
        Assert.That(File.Exists(SnapshotPath), Is.True, "a load without a snapshot writes one");
        Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(expected), "the rewritten snapshot");

        // Changes after a restart from the snapshot are appended and survive the next one.
        var again = new MaildirFolder(_root);
        var added = Append(again, "Subject: after\r\n\r\nx\r\n");
        again.SetFlags([1], f => f | MessageFlags.Deleted);
        Assert.That(added, Is.EqualTo(restarted.UidNext), "UIDs go on from where they were");
        Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(again.Synchronize())));
    }

    [TestCase("truncated")]
    [TestCase("garbled")]
    [TestCase("empty")]
    [TestCase("stale")]
    public void ADamagedOrStaleSnapshotIsIgnoredAndNoUidChanges(string damage)
    {
        var folder = Populated();
        var old = File.ReadAllBytes(SnapshotPath);
        if (damage == "stale")
        {
            // A newer compaction (forced by a load without the snapshot), then the old snapshot put back:
            // it names a journal that is no longer there.
            Append(folder, "Subject: newer\r\n\r\nx\r\n");
            File.Delete(SnapshotPath);
            new MaildirFolder(_root).Synchronize();
            File.WriteAllBytes(SnapshotPath, old);
        }
        else
        {
            var bytes = damage switch
            {
                "truncated" => old[..(old.Length / 2)],
                "garbled" => Garbled(old),
                _ => [],
            };
            File.WriteAllBytes(SnapshotPath, bytes);
        }
        var expected = Describe(new MaildirFolder(_root).Synchronize());
        File.Delete(SnapshotPath);
        Assert.That(expected, Is.EqualTo(Describe(new MaildirFolder(_root).Synchronize())), "the same as the journal alone gives");
        Assert.That(expected, Does.StartWith(folder.Synchronize().UidValidity.ToString(System.Globalization.CultureInfo.InvariantCulture) + " "));
    }

    private static byte[] Garbled(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        copy[copy.Length * 2 / 3] ^= 0x5A;
        return copy;
    }

    [Test]
    public void AJournalCutByACrashAfterTheSnapshotLosesOnlyTheTornRecordAndTheFileGetsTheNextUid()
    {
        var folder = Populated();
        var before = folder.Synchronize();
        var journal = File.ReadAllBytes(JournalPath);
        Append(folder, "Subject: torn\r\n\r\nx\r\n");
        var grown = File.ReadAllBytes(JournalPath);
        // kill -9 in the middle of the append: half of the new records reached the file.
        File.WriteAllBytes(JournalPath, grown[..(journal.Length + ((grown.Length - journal.Length) / 2))]);

        var restarted = new MaildirFolder(_root).Synchronize();
        var kept = restarted.Messages.Where(m => m.Uid < before.UidNext).Select(m => (m.Uid, m.BaseName)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(restarted.UidValidity, Is.EqualTo(before.UidValidity));
            Assert.That(kept, Is.EqualTo(before.Messages.Select(m => (m.Uid, m.BaseName)).ToList()), "every earlier message keeps its UID");
            Assert.That(restarted.Messages.Count, Is.EqualTo(before.Messages.Count + 1), "the message's file is found in cur/");
            Assert.That(restarted.Messages[^1].Uid, Is.GreaterThanOrEqualTo(before.UidNext));
            Assert.That(restarted.Messages.Select(m => m.Uid), Is.Ordered.Ascending.And.Unique);
        });
        // The journal is cut back to its last whole record before the next append.
        var next = new MaildirFolder(_root);
        next.Synchronize();
        Append(next, "Subject: later\r\n\r\ny\r\n");
        Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(next.Synchronize())));
    }

    [Test]
    public void ChangesBehindTheServersBackAndConcurrentWritersAreSeenAfterARestartFromTheSnapshot()
    {
        var folder = Populated();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                var uid = Append(folder, $"Subject: w{w} {i}\r\n\r\nz\r\n");
                folder.SetFlags([uid], f => f | MessageFlags.Seen);
            }
        })).ToArray();
        Task.WaitAll(writers);
        var before = folder.Synchronize();
        Assert.That(before.Messages.Select(m => m.Uid), Is.Ordered.Ascending.And.Unique);

        // Another program: a delivery into new/, a flag rename and a removal in cur/.
        File.WriteAllText(Path.Combine(_root, "new", "1700000000.M1P1.elsewhere"), "Subject: dropped\r\n\r\nd\r\n");
        var renamed = before.Messages[0];
        File.Move(Path.Combine(_root, "cur", renamed.FileName), Path.Combine(_root, "cur", renamed.BaseName + ":2,ST"));
        File.Delete(Path.Combine(_root, "cur", before.Messages[1].FileName));

        var restarted = new MaildirFolder(_root).Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(restarted.UidValidity, Is.EqualTo(before.UidValidity));
            Assert.That(restarted.Messages.Single(m => m.Uid == renamed.Uid).Flags, Is.EqualTo(MessageFlags.Seen | MessageFlags.Deleted));
            Assert.That(restarted.Messages.Any(m => m.Uid == before.Messages[1].Uid), Is.False, "the removed file is expunged");
            Assert.That(restarted.Messages[^1].BaseName, Is.EqualTo("1700000000.M1P1.elsewhere"));
            Assert.That(restarted.Messages[^1].Uid, Is.EqualTo(before.UidNext), "the delivery gets the next UID");
            Assert.That(restarted.Messages.Select(m => m.Uid), Is.Ordered.Ascending.And.Unique);
        });
        Assert.That(Describe(new MaildirFolder(_root).Synchronize()), Is.EqualTo(Describe(restarted)));
    }
}
