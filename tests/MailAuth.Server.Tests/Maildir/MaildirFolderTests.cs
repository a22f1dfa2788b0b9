using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Server.Hosting;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Maildir;

[TestFixture]
public sealed class MaildirFolderTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "mailauth-maildir-" + Guid.NewGuid().ToString("N"));
        MaildirDelivery.EnsureMaildir(_root);
    }

    [TearDown]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    private string Deliver(string text, string? name = null)
    {
        var path = Path.Combine(_root, "new", name ?? Guid.NewGuid().ToString("N") + ".test");
        File.WriteAllText(path, text);
        return path;
    }

    private string Staged(string text)
    {
        var path = Path.Combine(_root, "tmp", Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void DeliveredMessagesMoveToCurAndGetAscendingUids()
    {
        Deliver("a", "1000.a.host");
        Deliver("bb", "1001.b.host");
        var snapshot = new MaildirFolder(_root).Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Messages.Select(m => m.Uid), Is.EqualTo(new uint[] { 1, 2 }));
            Assert.That(snapshot.UidNext, Is.EqualTo(3u));
            Assert.That(Directory.GetFiles(Path.Combine(_root, "new")), Is.Empty);
            Assert.That(Directory.GetFiles(Path.Combine(_root, "cur")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "1000.a.host:2,", "1001.b.host:2," }));
            Assert.That(snapshot.Messages.Select(m => m.Size), Is.EquivalentTo(new long[] { 1, 2 }));
        });
    }

    [Test]
    public void UidsAndUidvaliditySurviveANewInstanceAsAfterARestart()
    {
        Deliver("one");
        Deliver("two");
        var first = new MaildirFolder(_root);
        var before = first.Synchronize();
        first.Expunge(m => m.Uid == 1);
        first.SetFlags([2], f => f | MessageFlags.Seen);

        Deliver("three");
        var after = new MaildirFolder(_root).Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(after.UidValidity, Is.EqualTo(before.UidValidity));
            Assert.That(after.Messages.Select(m => m.Uid), Is.EqualTo(new uint[] { 2, 3 }));
            Assert.That(after.Messages[0].BaseName, Is.EqualTo(before.Messages[1].BaseName));
            Assert.That(after.Messages[0].Flags, Is.EqualTo(MessageFlags.Seen));
            Assert.That(after.UidNext, Is.EqualTo(4u));
        });
        var list = File.ReadAllLines(Path.Combine(_root, MaildirFolder.UidListName));
        Assert.That(list[0], Is.EqualTo($"mailauth-uidlist 3 {before.UidValidity}"));
        Assert.That(list[^1].Split(' ')[1..3], Is.EqualTo(new[] { "S", "4" }));
        Assert.That(after.HighestModSeq, Is.EqualTo(5UL));
    }

    [Test]
    public void AFolderDeletedAndCreatedAgainGetsANewUidvalidityEvenWithinASecond()
    {
        var path = Path.Combine(_root, ".Again");
        MaildirDelivery.EnsureMaildir(path);
        var before = new MaildirFolder(path).Synchronize().UidValidity;
        Directory.Delete(path, recursive: true);
        MaildirDelivery.EnsureMaildir(path);
        Assert.That(new MaildirFolder(path).Synchronize().UidValidity, Is.Not.EqualTo(before));
    }

    [Test]
    public void UidsOfExpungedMessagesAreNeverReusedEvenForTheLastOne()
    {
        Deliver("one");
        var folder = new MaildirFolder(_root);
        folder.Synchronize();
        folder.Expunge(_ => true);
        Deliver("two");
        Assert.That(new MaildirFolder(_root).Synchronize().Messages.Single().Uid, Is.EqualTo(2u));
    }

    [Test]
    public void FlagsLiveInTheFileNameInMaildirLetterOrder()
    {
        Deliver("x", "1.x.host");
        var folder = new MaildirFolder(_root);
        folder.Synchronize();
        var updated = folder.SetFlags([1], _ => MessageFlags.Seen | MessageFlags.Answered | MessageFlags.Flagged | MessageFlags.Draft | MessageFlags.Deleted);
        Assert.That(updated.Single().FileName, Is.EqualTo("1.x.host:2,DFRST"));
        Assert.That(File.Exists(Path.Combine(_root, "cur", "1.x.host:2,DFRST")), Is.True);
        folder.SetFlags([1], f => f & ~(MessageFlags.Deleted | MessageFlags.Draft));
        Assert.That(Directory.GetFiles(Path.Combine(_root, "cur")).Select(Path.GetFileName), Is.EqualTo(new[] { "1.x.host:2,FRS" }));
    }

    [TestCase("1.x.host:2,S", 8, "")]
    [TestCase("1.x.host:2,FPRS", 11, "P")]
    [TestCase("1.x.host:2,Sa", 8, "a")]
    [TestCase("1.x.host", 0, "")]
    public void FlagsAreReadFromNamesAndUnknownLettersKept(string name, int flagBits, string other)
    {
        var flags = (MessageFlags)flagBits;
        var parsed = MaildirFlags.Parse(name);
        Assert.That(parsed, Is.EqualTo(("1.x.host", flags, other)));
        Assert.That(MaildirFlags.ToInfo(parsed.Flags, parsed.OtherLetters), Is.EqualTo(name.Contains(':', StringComparison.Ordinal) ? name[8..] : ":2,"));
    }

    [Test]
    public void FilesWrittenIntoCurByAnotherProgramArePickedUpByARescan()
    {
        var folder = new MaildirFolder(_root);
        folder.Synchronize();
        File.WriteAllText(Path.Combine(_root, "cur", "77.imported.host:2,S"), "x");
        var snapshot = folder.Synchronize(rescan: true);
        Assert.That(snapshot.Messages.Single().Flags, Is.EqualTo(MessageFlags.Seen));
        File.Delete(Path.Combine(_root, "cur", "77.imported.host:2,S"));
        Assert.That(folder.Synchronize(rescan: true).Messages, Is.Empty);
    }

    [Test]
    public void AppendKeepsBytesFlagsAndInternalDate()
    {
        var folder = new MaildirFolder(_root);
        var date = new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var uid = folder.Add(Staged("Subject: x\r\n\r\nbody\r\n"), MessageFlags.Seen, date);
        var message = folder.Synchronize().Messages.Single();
        Assert.Multiple(() =>
        {
            Assert.That(message.Uid, Is.EqualTo(uid));
            Assert.That(message.Flags, Is.EqualTo(MessageFlags.Seen));
            Assert.That(message.InternalDate, Is.EqualTo(date));
            Assert.That(File.ReadAllText(folder.FilePathOf(uid)!), Is.EqualTo("Subject: x\r\n\r\nbody\r\n"));
            Assert.That(message.BaseName, Does.EndWith(",S=20"));
        });
    }

    [Test]
    public void CopyGivesNewUidsInTheTargetAndKeepsFlags()
    {
        var source = new MaildirFolder(_root);
        var targetPath = Path.Combine(_root, ".Archive");
        MaildirDelivery.EnsureMaildir(targetPath);
        var target = new MaildirFolder(targetPath);
        target.Add(Staged("already there"), MessageFlags.None, null);
        source.Add(Staged("a"), MessageFlags.Flagged, null);
        source.Add(Staged("b"), MessageFlags.None, null);
        var pairs = source.CopyTo(target, [1, 2]);
        Assert.That(pairs, Is.EqualTo(new[] { (1u, 2u), (2u, 3u) }));
        var copied = target.Synchronize().Messages;
        Assert.That(copied.Select(m => m.Flags), Is.EqualTo(new[] { MessageFlags.None, MessageFlags.Flagged, MessageFlags.None }));
        Assert.That(Directory.GetFiles(Path.Combine(targetPath, "tmp")), Is.Empty);
    }

    [Test]
    public void SessionsSharingAFolderSeeEachOthersChangesAndAreWoken()
    {
        var folders = new MaildirFolders();
        var one = folders.Get(_root);
        var two = folders.Get(_root);
        Assert.That(two, Is.SameAs(one));
        var version = one.Synchronize().Version;
        var woken = one.WaitForChangeAsync(version, CancellationToken.None);
        Assert.That(woken.IsCompleted, Is.False);
        two.Add(Staged("hello"), MessageFlags.None, null);
        Assert.That(woken.Wait(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(one.Synchronize().Messages, Has.Count.EqualTo(1));
    }

    [Test]
    public void ConcurrentAppendsAndFlagChangesLoseNothing()
    {
        var folders = new MaildirFolders();
        var tasks = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            var folder = folders.Get(_root);
            for (var j = 0; j < 10; j++)
            {
                var uid = folder.Add(Staged($"message {i}.{j}"), MessageFlags.None, null);
                folder.SetFlags([uid], f => f | MessageFlags.Seen);
                Deliver($"delivered {i}.{j}");
                folder.Synchronize();
            }
        })).ToArray();
        Task.WaitAll(tasks);
        var snapshot = new MaildirFolder(_root).Synchronize();
        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Messages, Has.Count.EqualTo(160));
            Assert.That(snapshot.Messages.Select(m => m.Uid).Distinct().Count(), Is.EqualTo(160));
            Assert.That(snapshot.Messages.Count(m => m.Flags == MessageFlags.Seen), Is.EqualTo(80));
            Assert.That(snapshot.UidNext, Is.EqualTo(161u));
        });
    }

    [Test]
    public void RecentGoesToExactlyOneSession()
    {
        Deliver("x");
        var folder = new MaildirFolders().Get(_root);
        var snapshot = folder.Synchronize();
        Assert.That(folder.ClaimRecent(snapshot.UidNext), Is.EquivalentTo(new uint[] { 1 }));
        Assert.That(folder.ClaimRecent(snapshot.UidNext), Is.Empty);
    }

    [Test]
    public void MessagesDeliveredBySmtpDeliveryAreFoundInInbox()
    {
        var options = new MailAuthOptions { DataDirectory = _root };
        var locator = new MaildirLocator(options);
        var address = EmailAddress.Parse("julie@family.example");
        var bytes = Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nhello\r\n");
        var path = new MaildirDelivery(locator, new MaildirFolders()).DeliverAsync(address, new MemoryStream(bytes), CancellationToken.None).GetAwaiter().GetResult();
        var store = new MaildirStore(locator.InboxPath(address), new MaildirFolders());
        store.EnsureCreated();
        var inbox = store.Open("INBOX")!;
        var message = inbox.Synchronize().Messages.Single();
        Assert.That(message.BaseName, Is.EqualTo(Path.GetFileName(path)));
        Assert.That(File.ReadAllBytes(inbox.FilePathOf(message.Uid)!), Is.EqualTo(bytes));
    }
}
