using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Maildir;

/// <summary>
/// The unseen count and first unseen message the folder keeps as changes are applied (STATUS UNSEEN,
/// SELECT's [UNSEEN n]) always agree with the messages themselves: across adds, flag changes, expunges,
/// changes made behind the server's back and a restart.
/// </summary>
[TestFixture]
public sealed class FolderCountsTests
{
    private string _root = "";

    private string Cur => Path.Combine(_root, "cur");

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "mailauth-counts-" + Guid.NewGuid().ToString("N"));
        MaildirDelivery.EnsureMaildir(_root);
    }

    [TearDown]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    private uint Append(MaildirFolder folder, MessageFlags flags = MessageFlags.None)
    {
        var path = Path.Combine(_root, "tmp", Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, "Subject: counted\r\n\r\nbody\r\n");
        return folder.Add(path, flags, null);
    }

    /// <summary>The counts as the snapshot carries them, and as counted over its messages.</summary>
    private static void AssertCounts(FolderSnapshot snapshot, int unseen, int firstUnseen)
    {
        var messages = snapshot.Messages.ToList();
        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Unseen, Is.EqualTo(unseen), "unseen");
            Assert.That(snapshot.FirstUnseen, Is.EqualTo(firstUnseen), "first unseen");
            Assert.That(messages.Count(m => !m.Flags.HasFlag(MessageFlags.Seen)), Is.EqualTo(unseen), "unseen, counted");
            Assert.That(messages.FindIndex(m => !m.Flags.HasFlag(MessageFlags.Seen)), Is.EqualTo(firstUnseen), "first unseen, counted");
        });
    }

    [Test]
    public void CountsFollowAddsFlagChangesAndExpunges()
    {
        var folder = new MaildirFolder(_root);
        AssertCounts(folder.Synchronize(), 0, -1);
        for (var i = 0; i < 6; i++)
        {
            Append(folder, i < 3 ? MessageFlags.Seen : MessageFlags.None);
        }
        AssertCounts(folder.Synchronize(), 3, 3);

        folder.SetFlags([4], f => f | MessageFlags.Seen);
        AssertCounts(folder.Synchronize(), 2, 4);
        folder.SetFlags([2], f => f & ~MessageFlags.Seen);
        AssertCounts(folder.Synchronize(), 3, 1);
        folder.Store([1, 2, 3, 4, 5, 6], new FlagChange(FlagOperation.Add, MessageFlags.Seen, []), unchangedSince: null);
        AssertCounts(folder.Synchronize(), 0, -1);
        folder.Store([5], new FlagChange(FlagOperation.Remove, MessageFlags.Seen, []), unchangedSince: null);
        folder.SetFlags([6], f => f | MessageFlags.Flagged); // Not \Seen: no change to the counts.
        AssertCounts(folder.Synchronize(), 1, 4);

        folder.Expunge(m => m.Uid is 1 or 5);
        AssertCounts(folder.Synchronize(), 0, -1);
        Append(folder);
        folder.SetFlags([3], f => f & ~MessageFlags.Seen);
        AssertCounts(folder.Synchronize(), 2, 1);
        folder.Expunge(m => m.Uid == 2);
        AssertCounts(folder.Synchronize(), 2, 0);
        folder.Expunge(m => m.Uid == 3);
        AssertCounts(folder.Synchronize(), 1, 2);
    }

    [Test]
    public void CountsFollowChangesMadeBehindTheServersBackAndARestart()
    {
        var folder = new MaildirFolder(_root);
        for (var i = 0; i < 4; i++)
        {
            Append(folder, MessageFlags.Seen);
        }
        AssertCounts(folder.Synchronize(), 0, -1);

        // Another program marks message 2 unread (a rename in cur/), removes message 1 and delivers into new/.
        var second = folder.FilePathOf(2)!;
        File.Move(second, second[..second.LastIndexOf(":2,", StringComparison.Ordinal)] + ":2,");
        File.Delete(folder.FilePathOf(1)!);
        File.WriteAllText(Path.Combine(_root, "new", "1700000000.M1P1.elsewhere"), "Subject: delivered\r\n\r\nx\r\n");
        Directory.SetLastWriteTimeUtc(Cur, DateTime.UtcNow.AddMinutes(1)); // cur/'s time moves even on a coarse clock.
        AssertCounts(folder.Synchronize(), 2, 0);

        folder.SetFlags([5], f => f | MessageFlags.Seen);
        AssertCounts(folder.Synchronize(), 1, 0);

        // A new process reads the index alone (cur/ as the index last saw it) and counts the same.
        var restarted = new MaildirFolder(_root);
        AssertCounts(restarted.Synchronize(), 1, 0);
        restarted.SetFlags([2], f => f | MessageFlags.Seen);
        AssertCounts(restarted.Synchronize(), 0, -1);
        // And one that finds cur/ changed since (a rescan) as well.
        var third = restarted.FilePathOf(3)!;
        File.Move(third, third[..third.LastIndexOf(":2,", StringComparison.Ordinal)] + ":2,F");
        Directory.SetLastWriteTimeUtc(Cur, DateTime.UtcNow.AddMinutes(2));
        AssertCounts(new MaildirFolder(_root).Synchronize(), 1, 1);
    }
}
