using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Maildir;

[TestFixture]
public sealed class MaildirStoreTests
{
    private string _root = "";
    private MaildirStore _store = null!;

    [SetUp]
    public void CreateStore()
    {
        _root = Path.Combine(Path.GetTempPath(), "mailauth-store-" + Guid.NewGuid().ToString("N"));
        _store = new MaildirStore(_root, new MaildirFolders());
        _store.EnsureCreated();
    }

    [TearDown]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    [Test]
    public void ANewMailboxHasInboxAndTheSpecialUseFoldersSubscribed()
    {
        Assert.That(_store.List().Select(f => (f.Name, f.SpecialUse)), Is.EqualTo(new (string, string?)[]
        {
            ("INBOX", null), ("Archive", @"\Archive"), ("Drafts", @"\Drafts"), ("Junk", @"\Junk"), ("Sent", @"\Sent"), ("Trash", @"\Trash"),
        }));
        Assert.That(Directory.Exists(Path.Combine(_root, ".Sent", "cur")), Is.True);
        Assert.That(_store.Subscriptions(), Is.EquivalentTo(new[] { "INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash" }));
    }

    [Test]
    public void DeletedSpecialFoldersAreNotRecreatedAtTheNextLogin()
    {
        _store.Delete("Junk");
        new MaildirStore(_root, new MaildirFolders()).EnsureCreated();
        Assert.That(_store.Exists("Junk"), Is.False);
    }

    [Test]
    public void CreateMakesMaildirPlusPlusFoldersWithTheirParents()
    {
        _store.Create("Archive.2024");
        Assert.Multiple(() =>
        {
            Assert.That(Directory.Exists(Path.Combine(_root, ".Archive.2024", "cur")), Is.True);
            Assert.That(_store.Exists("Archive"), Is.True);
            Assert.That(_store.List().Single(f => f.Name == "Archive").HasChildren, Is.True);
            Assert.That(_store.List().Single(f => f.Name == "Archive.2024").HasChildren, Is.False);
        });
    }

    [Test]
    public void RenameMovesSubFoldersAndKeepsUids()
    {
        _store.Create("Projects.Alpha");
        var staged = Path.Combine(_root, "tmp", "m");
        File.WriteAllText(staged, "x");
        var folder = _store.Open("Projects")!;
        folder.Add(staged, MessageFlags.None, null);
        var validity = folder.Synchronize().UidValidity;
        _store.Rename("Projects", "Old");
        Assert.Multiple(() =>
        {
            Assert.That(_store.Exists("Projects"), Is.False);
            Assert.That(_store.Exists("Old.Alpha"), Is.True);
            var renamed = _store.Open("Old")!.Synchronize();
            Assert.That(renamed.UidValidity, Is.EqualTo(validity));
            Assert.That(renamed.Messages.Single().Uid, Is.EqualTo(1u));
        });
    }

    [TestCase("", false)]
    [TestCase("inbox", false)]
    [TestCase("a/b", false)]
    [TestCase(".hidden", false)]
    [TestCase("trailing.", false)]
    [TestCase("a..b", false)]
    [TestCase("100%", false)]
    [TestCase("Reports 2024", true)]
    [TestCase("Archive.2024", true)]
    [TestCase("&AOk-t&AOk-", true)]
    public void FolderNames(string name, bool valid) =>
        Assert.That(MaildirStore.CheckName(name) is null, Is.EqualTo(valid));

    [TestCase("../x")]
    [TestCase("/../../other")]
    [TestCase("./../../family.example/anna")]
    [TestCase("a/../../b")]
    [TestCase("..")]
    public void NamesThatWouldLeaveTheMailboxAreNeverOpened(string name)
    {
        // A sibling mailbox that such a name would reach if it were joined to a path.
        var sibling = Path.Combine(Path.GetDirectoryName(_root)!, "other");
        Assert.Multiple(() =>
        {
            Assert.That(MaildirStore.IsValid(name), Is.False);
            Assert.That(_store.Exists(name), Is.False);
            Assert.That(_store.Open(name), Is.Null);
            Assert.Throws<ArgumentException>(() => _store.PathOf(name));
        });
        Assert.That(Directory.Exists(sibling), Is.False);
    }

    [Test]
    public void SubscriptionsPersist()
    {
        _store.Create("Lists");
        _store.Subscribe("Lists", true);
        _store.Subscribe("Junk", false);
        Assert.That(new MaildirStore(_root, new MaildirFolders()).Subscriptions(), Is.EquivalentTo(new[] { "INBOX", "Archive", "Drafts", "Sent", "Trash", "Lists" }));
    }

    [Test]
    public void SessionsLoggingInTogetherToANewMailboxSetItUpOnceAndLoseNoSubscription()
    {
        var folders = new MaildirFolders();
        var root = Path.Combine(Path.GetTempPath(), "mailauth-store-" + Guid.NewGuid().ToString("N"));
        try
        {
            // One store per session, as the IMAP server opens them, all on one mailbox at once.
            Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, session =>
            {
                var store = new MaildirStore(root, folders);
                store.EnsureCreated();
                for (var i = 0; i < 10; i++)
                {
                    store.Subscribe($"List{session}.{i}", true);
                }
            });

            var expected = new[] { "INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash" }
                .Concat(Enumerable.Range(0, 16).SelectMany(session => Enumerable.Range(0, 10).Select(i => $"List{session}.{i}")));
            Assert.That(new MaildirStore(root, new MaildirFolders()).Subscriptions(), Is.EquivalentTo(expected));
            Assert.That(Directory.EnumerateFiles(root, "*.tmp"), Is.Empty);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void ASessionOfAMailboxWhoseDirectoryWasMovedAwayNeverBringsItBack()
    {
        var archived = _root + ".removed";
        Directory.Move(_root, archived);
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(() => _store.Create("Stolen"), Throws.InstanceOf<DirectoryNotFoundException>());
                Assert.That(() => _store.Create("Stolen.Child"), Throws.InstanceOf<DirectoryNotFoundException>());
                Assert.That(() => _store.Open(MaildirStore.Inbox)!.Synchronize(), Throws.InstanceOf<DirectoryNotFoundException>());
                Assert.That(() => _store.Subscribe("Archive", true), Throws.InstanceOf<DirectoryNotFoundException>());
            });
            Assert.That(Directory.Exists(_root), Is.False, "the mailbox directory was created again");
        }
        finally
        {
            Directory.Move(archived, _root);
        }
    }
}
