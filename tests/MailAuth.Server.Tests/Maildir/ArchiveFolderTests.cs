using MailAuth.Server.Maildir;
using MailAuth.Server.Tests.Imap;
using MailKit;
using MimeKit;

namespace MailAuth.Server.Tests.Maildir;

/// <summary>
/// RFC 6154 \Archive: new mailboxes get it, mailboxes made before it get it at their next login
/// (once: deleted, it stays deleted), and MailKit finds and uses it as Thunderbird's Archive button does.
/// </summary>
[TestFixture]
public sealed class ArchiveFolderTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot() => _root = Path.Combine(Path.GetTempPath(), "mailauth-archive-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void DeleteRoot()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>A mailbox as the version before Archive left it: four special folders and an empty marker.</summary>
    private void MakeMailboxOfTheVersionBefore()
    {
        MaildirDelivery.EnsureMaildir(_root);
        foreach (var name in new[] { "Drafts", "Sent", "Junk", "Trash" })
        {
            MaildirDirectories.CreateFolder(Path.Combine(_root, "." + name));
        }
        File.WriteAllText(Path.Combine(_root, "subscriptions"), "INBOX\nDrafts\nSent\nJunk\nTrash\n");
        File.WriteAllText(Path.Combine(_root, "mailauth-initialized"), "");
    }

    [Test]
    public void AnExistingMailboxGetsArchiveAtItsNextLoginAndKeepsItDeleted()
    {
        MakeMailboxOfTheVersionBefore();
        var store = new MaildirStore(_root, new MaildirFolders());
        store.EnsureCreated();
        Assert.Multiple(() =>
        {
            Assert.That(store.List().Single(f => f.Name == "Archive").SpecialUse, Is.EqualTo(@"\Archive"));
            Assert.That(store.Subscriptions(), Is.EquivalentTo(new[] { "INBOX", "Archive", "Drafts", "Sent", "Junk", "Trash" }));
            Assert.That(File.ReadAllLines(Path.Combine(_root, "mailauth-initialized")), Is.EquivalentTo(MaildirStore.SpecialFolders.Keys));
        });

        store.Delete("Archive");
        store.Delete("Junk");
        new MaildirStore(_root, new MaildirFolders()).EnsureCreated();
        Assert.That(store.List().Select(f => f.Name), Is.EqualTo(new[] { "INBOX", "Drafts", "Sent", "Trash" }));
    }

    [Test]
    public void AFolderNamedArchiveAlreadyThereKeepsItsMailAndBecomesTheArchive()
    {
        MakeMailboxOfTheVersionBefore();
        MaildirDirectories.CreateFolder(Path.Combine(_root, ".Archive"));
        File.WriteAllText(Path.Combine(_root, ".Archive", "cur", "1.M1.host:2,S"), "Subject: kept\r\n\r\nbody\r\n");
        var store = new MaildirStore(_root, new MaildirFolders());
        store.EnsureCreated();
        Assert.That(store.List().Single(f => f.Name == "Archive").SpecialUse, Is.EqualTo(@"\Archive"));
        Assert.That(Directory.GetFiles(Path.Combine(_root, ".Archive", "cur")), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task MailKitFindsTheArchiveFolderAndMovesMailThere()
    {
        await using var server = await RunningServer.StartAsync();
        await MailKitClients.AddDomainAsync(server);
        var address = await MailKitClients.AddMailboxAsync(server, "archiver", "Archive-pass 1");
        using var client = await MailKitClients.ImapAsync(server, address, "Archive-pass 1");
        var archive = client.GetFolder(SpecialFolder.Archive);
        Assert.That(archive, Is.Not.Null, "SPECIAL-USE \\Archive");
        Assert.That(archive.FullName, Is.EqualTo("Archive"));

        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        await inbox.AppendAsync(new MimeMessage([MailboxAddress.Parse("a@family.example")], [MailboxAddress.Parse(address)], "to archive",
            new TextPart("plain") { Text = "keep me" }));
        var uids = await inbox.SearchAsync(MailKit.Search.SearchQuery.All);
        await inbox.MoveToAsync(uids, archive);
        Assert.That(inbox.Count, Is.Zero, "MOVE leaves no \\Deleted copy behind");

        await archive.OpenAsync(FolderAccess.ReadOnly);
        Assert.That(archive.Count, Is.EqualTo(1));
        Assert.That((await archive.GetMessageAsync(0)).Subject, Is.EqualTo("to archive"));
    }
}
