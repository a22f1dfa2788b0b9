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
    public void A_new_mailbox_has_inbox_and_the_special_use_folders_subscribed()
    {
        Assert.That(_store.List().Select(f => (f.Name, f.SpecialUse)), Is.EqualTo(new (string, string?)[]
        {
            ("INBOX", null), ("Drafts", @"\Drafts"), ("Junk", @"\Junk"), ("Sent", @"\Sent"), ("Trash", @"\Trash"),
        }));
        Assert.That(Directory.Exists(Path.Combine(_root, ".Sent", "cur")), Is.True);
        Assert.That(_store.Subscriptions(), Is.EquivalentTo(new[] { "INBOX", "Drafts", "Junk", "Sent", "Trash" }));
    }

    [Test]
    public void Deleted_special_folders_are_not_recreated_at_the_next_login()
    {
        _store.Delete("Junk");
        new MaildirStore(_root, new MaildirFolders()).EnsureCreated();
        Assert.That(_store.Exists("Junk"), Is.False);
    }

    [Test]
    public void Create_makes_maildir_plus_plus_folders_with_their_parents()
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
    public void Rename_moves_sub_folders_and_keeps_uids()
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
    public void Folder_names(string name, bool valid) =>
        Assert.That(MaildirStore.CheckName(name) is null, Is.EqualTo(valid));

    [TestCase("../x")]
    [TestCase("/../../other")]
    [TestCase("./../../family.example/anna")]
    [TestCase("a/../../b")]
    [TestCase("..")]
    public void Names_that_would_leave_the_mailbox_are_never_opened(string name)
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
    public void Subscriptions_persist()
    {
        _store.Create("Lists");
        _store.Subscribe("Lists", true);
        _store.Subscribe("Junk", false);
        Assert.That(new MaildirStore(_root, new MaildirFolders()).Subscriptions(), Is.EquivalentTo(new[] { "INBOX", "Drafts", "Sent", "Trash", "Lists" }));
    }

    [Test]
    public void Sessions_logging_in_together_to_a_new_mailbox_set_it_up_once_and_lose_no_subscription()
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

            var expected = new[] { "INBOX", "Drafts", "Junk", "Sent", "Trash" }
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
    public void A_session_of_a_mailbox_whose_directory_was_moved_away_never_brings_it_back()
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
