using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// MailKit's <see cref="ImapClient"/>, the IMAP library of most .NET mail applications, driving the
/// real server through what such an application does. Each test has a mailbox of its own.
/// </summary>
[TestFixture]
public sealed class ImapMailKitTests
{
    private const string Password = "MailKit-pass 7";
    private static readonly DateTimeOffset January = new(2024, 1, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset March = new(2025, 3, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset June = new(2026, 6, 15, 12, 0, 0, TimeSpan.FromHours(2));
    private static readonly byte[] Pdf = [.. "%PDF-1.4\n"u8, 0, 1, 2, 0xFF, 0xFE, 13, 10, .. "%%EOF\n"u8];
    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Imap__IdlePollIntervalMilliseconds"] = "200" });
        await MailKitClients.AddDomainAsync(_server);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [TestCase(SecureSocketOptions.SslOnConnect, "PLAIN")]
    [TestCase(SecureSocketOptions.SslOnConnect, "LOGIN")]
    [TestCase(SecureSocketOptions.StartTls, "PLAIN")]
    [TestCase(SecureSocketOptions.StartTls, "LOGIN")]
    [TestCase(SecureSocketOptions.StartTls, "LOGIN-command")]
    public async Task LogsInOverImplicitTlsAndStartTls(SecureSocketOptions security, string mechanism)
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "login-" + Guid.NewGuid().ToString("N")[..8], Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password, security, mechanism);
        Assert.Multiple(() =>
        {
            Assert.That(client.IsAuthenticated, Is.True);
            Assert.That(client.IsSecure, Is.True);
            Assert.That(client.Capabilities.HasFlag(ImapCapabilities.UidPlus), Is.True);
            Assert.That(client.Capabilities.HasFlag(ImapCapabilities.Move), Is.True);
            Assert.That(client.Capabilities.HasFlag(ImapCapabilities.Idle), Is.True);
            Assert.That(client.Capabilities.HasFlag(ImapCapabilities.Namespace), Is.True);
            Assert.That(client.Capabilities.HasFlag(ImapCapabilities.SpecialUse), Is.True);
        });
        await client.DisconnectAsync(true);
    }

    [Test]
    public async Task AWrongPasswordIsAnAuthenticationFailure()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "wrong", Password);
        var error = Assert.ThrowsAsync<AuthenticationException>(() => MailKitClients.ImapAsync(_server, address, "not the password"));
        Assert.That(error!.Message, Does.Contain("failed").IgnoreCase);
    }

    [Test]
    public async Task ListsThePersonalNamespaceAndTheSpecialFoldersOfANewMailbox()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "list", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var personal = client.PersonalNamespaces.Single();
        var folders = await client.GetFoldersAsync(personal, StatusItems.None, subscribedOnly: false);
        var subscribed = await client.GetFoldersAsync(personal, StatusItems.None, subscribedOnly: true);
        Assert.Multiple(() =>
        {
            Assert.That(personal.Path, Is.Empty);
            Assert.That(personal.DirectorySeparator, Is.EqualTo('.'));
            Assert.That(client.SharedNamespaces, Is.Empty);
            Assert.That(folders.Select(f => f.FullName), Is.EquivalentTo(new[] { "INBOX", "Archive", "Drafts", "Sent", "Junk", "Trash" }));
            Assert.That(folders.Single(f => f.FullName == "Sent").Attributes.HasFlag(FolderAttributes.Sent), Is.True);
            Assert.That(folders.Single(f => f.FullName == "Drafts").Attributes.HasFlag(FolderAttributes.Drafts), Is.True);
            Assert.That(folders.Single(f => f.FullName == "Junk").Attributes.HasFlag(FolderAttributes.Junk), Is.True);
            Assert.That(folders.Single(f => f.FullName == "Trash").Attributes.HasFlag(FolderAttributes.Trash), Is.True);
            Assert.That(folders.All(f => f.Attributes.HasFlag(FolderAttributes.HasNoChildren)), Is.True, "CHILDREN");
            Assert.That(subscribed.Select(f => f.FullName), Is.SupersetOf(new[] { "Archive", "Drafts", "Sent", "Junk", "Trash" }));
        });
    }

    [Test]
    public async Task AppendReturnsUidsAndFetchSummariesDescribeEachMessage()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "summaries", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var first = MailKitClients.Message("Anna <anna@family.example>", address, "Report for March", March, Pdf);
        var second = MailKitClients.Message("bob@elsewhere.example", address, "Plain note", June);
        var uid1 = await client.Inbox.AppendAsync(new AppendRequest(first, MessageFlags.Seen | MessageFlags.Flagged, March));
        var uid2 = await client.Inbox.AppendAsync(new AppendRequest(second, MessageFlags.None, June));
        Assert.That(new[] { uid1?.Id, uid2?.Id }, Is.EqualTo(new uint?[] { 1, 2 }), "APPENDUID (RFC 4315)");

        await client.Inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.That(client.Inbox.Count, Is.EqualTo(2));
        var summaries = await client.Inbox.FetchAsync(0, -1, new FetchRequest(
            MessageSummaryItems.Envelope | MessageSummaryItems.BodyStructure | MessageSummaryItems.Flags |
            MessageSummaryItems.UniqueId | MessageSummaryItems.Size | MessageSummaryItems.InternalDate));
        var raw = new List<long>();
        foreach (var summary in summaries)
        {
            using var stream = await client.Inbox.GetStreamAsync(summary.UniqueId);
            raw.Add(stream.Length);
        }
        Assert.That(summaries, Has.Count.EqualTo(2));
        var (report, note) = (summaries[0], summaries[1]);
        Assert.Multiple(() =>
        {
            Assert.That(report.UniqueId, Is.EqualTo(uid1));
            Assert.That(note.UniqueId, Is.EqualTo(uid2));
            Assert.That(report.Envelope!.Subject, Is.EqualTo("Report for March"));
            Assert.That(report.Envelope!.From.Mailboxes.Single().Name, Is.EqualTo("Anna"));
            Assert.That(report.Envelope!.From.Mailboxes.Single().Address, Is.EqualTo("anna@family.example"));
            Assert.That(report.Envelope!.To.Mailboxes.Single().Address, Is.EqualTo(address));
            Assert.That(report.Envelope!.Date, Is.EqualTo(March));
            Assert.That(report.Envelope!.MessageId, Is.EqualTo(first.MessageId));
            Assert.That(note.Envelope!.Sender.Mailboxes.Single().Address, Is.EqualTo("bob@elsewhere.example"), "Sender defaults to From");
            // \Recent: this is the first session to see them (RFC 3501 §2.3.2).
            Assert.That(report.Flags, Is.EqualTo(MessageFlags.Seen | MessageFlags.Flagged | MessageFlags.Recent));
            Assert.That(note.Flags, Is.EqualTo(MessageFlags.Recent));
            Assert.That(report.InternalDate, Is.EqualTo(March));
            Assert.That(note.InternalDate, Is.EqualTo(June));
            Assert.That(new[] { (long)report.Size!.Value, (long)note.Size!.Value }, Is.EqualTo(raw), "RFC822.SIZE is the size of BODY[]");
            Assert.That(report.Body, Is.InstanceOf<BodyPartMultipart>());
            Assert.That(report.Body!.ContentType.MimeType, Is.EqualTo("multipart/mixed").IgnoreCase, "MIME names are case-insensitive");
            Assert.That(report.TextBody!.ContentType.Charset, Is.EqualTo("utf-8"));
            Assert.That(report.Attachments.Single().FileName, Is.EqualTo("report.pdf"));
            Assert.That(report.Attachments.Single().ContentTransferEncoding, Is.EqualTo("base64").IgnoreCase);
            Assert.That(note.Body, Is.InstanceOf<BodyPartText>(), "a single text part is not multipart");
            Assert.That(note.Attachments, Is.Empty);
        });
    }

    [Test]
    public async Task FetchesAWholeMessageAndOneBodyPartWithoutSettingSeen()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "bodies", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var original = MailKitClients.Message("anna@family.example", address, "Attachment inside", March, Pdf);
        var uid = (await client.Inbox.AppendAsync(new AppendRequest(original, MessageFlags.None, March)))!.Value;
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite);

        var message = await client.Inbox.GetMessageAsync(uid);
        var summary = (await client.Inbox.FetchAsync([uid], new FetchRequest(MessageSummaryItems.BodyStructure))).Single();
        var part = (MimePart)await client.Inbox.GetBodyPartAsync(uid, summary.Attachments.Single());
        using var content = new MemoryStream();
        await part.Content!.DecodeToAsync(content);
        var flags = (await client.Inbox.FetchAsync([uid], new FetchRequest(MessageSummaryItems.Flags))).Single().Flags;
        Assert.Multiple(() =>
        {
            Assert.That(message.Subject, Is.EqualTo("Attachment inside"));
            Assert.That(message.MessageId, Is.EqualTo(original.MessageId));
            Assert.That(message.TextBody, Is.EqualTo("Hello from anna@family.example.\nGrüße, 日本語 ✓\n").Or.EqualTo("Hello from anna@family.example.\r\nGrüße, 日本語 ✓\r\n"));
            Assert.That(message.Attachments.OfType<MimePart>().Single().FileName, Is.EqualTo("report.pdf"));
            Assert.That(part.FileName, Is.EqualTo("report.pdf"));
            Assert.That(content.ToArray(), Is.EqualTo(Pdf), "BODY[2] decodes to the attached bytes");
            Assert.That(flags, Is.EqualTo(MessageFlags.Recent), "no \\Seen: MailKit fetches with BODY.PEEK");
        });
    }

    [Test]
    public async Task SearchesBySubjectSenderUnseenUidAndDates()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "search", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var inbox = client.Inbox;
        var old = (await inbox.AppendAsync(new AppendRequest(MailKitClients.Message("anna@family.example", address, "Holiday plans", January), MessageFlags.Seen, January)))!.Value;
        var report = (await inbox.AppendAsync(new AppendRequest(MailKitClients.Message("bob@elsewhere.example", address, "Quarterly report", March), MessageFlags.None, March)))!.Value;
        var recent = (await inbox.AppendAsync(new AppendRequest(MailKitClients.Message("anna@family.example", address, "Holiday photos", June), MessageFlags.None, June)))!.Value;
        await inbox.OpenAsync(FolderAccess.ReadOnly);

        Assert.Multiple(async () =>
        {
            Assert.That(await inbox.SearchAsync(SearchQuery.SubjectContains("holiday")), Is.EqualTo(new[] { old, recent }));
            Assert.That(await inbox.SearchAsync(SearchQuery.FromContains("bob@elsewhere")), Is.EqualTo(new[] { report }));
            Assert.That(await inbox.SearchAsync(SearchQuery.NotSeen), Is.EqualTo(new[] { report, recent }));
            Assert.That(await inbox.SearchAsync(SearchQuery.Uids([old, recent])), Is.EqualTo(new[] { old, recent }));
            Assert.That(await inbox.SearchAsync(SearchQuery.DeliveredAfter(new DateTime(2025, 1, 1))), Is.EqualTo(new[] { report, recent }));
            Assert.That(await inbox.SearchAsync(SearchQuery.DeliveredOn(new DateTime(2025, 3, 3))), Is.EqualTo(new[] { report }));
            Assert.That(await inbox.SearchAsync(SearchQuery.SentSince(new DateTime(2026, 1, 1))), Is.EqualTo(new[] { recent }));
            Assert.That(await inbox.SearchAsync(SearchQuery.FromContains("anna").And(SearchQuery.NotSeen)), Is.EqualTo(new[] { recent }));
            Assert.That(await inbox.SearchAsync(SearchQuery.SubjectContains("nothing like this")), Is.Empty);
        });
    }

    [Test]
    public async Task StoresAndRemovesSeenFlaggedAndDeleted()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "flags", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var inbox = client.Inbox;
        var uid = (await inbox.AppendAsync(new AppendRequest(MailKitClients.Message("anna@family.example", address, "Flag me", March), MessageFlags.None)))!.Value;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var changed = new List<MessageFlags>();
        inbox.MessageFlagsChanged += (_, e) => changed.Add(e.Flags);

        await inbox.AddFlagsAsync(uid, MessageFlags.Seen | MessageFlags.Flagged, silent: false);
        var afterAdd = await FlagsAsync(inbox, uid);
        await inbox.RemoveFlagsAsync(uid, MessageFlags.Seen, silent: true);
        var afterRemove = await FlagsAsync(inbox, uid);
        await inbox.SetFlagsAsync(uid, MessageFlags.Deleted | MessageFlags.Answered, silent: true);
        var afterSet = await FlagsAsync(inbox, uid);
        Assert.Multiple(() =>
        {
            Assert.That(inbox.PermanentFlags.HasFlag(MessageFlags.Seen | MessageFlags.Flagged | MessageFlags.Deleted | MessageFlags.Answered | MessageFlags.Draft), Is.True);
            Assert.That(changed.First(), Is.EqualTo(MessageFlags.Seen | MessageFlags.Flagged | MessageFlags.Recent), "the untagged FETCH of a non-silent STORE");
            Assert.That(afterAdd, Is.EqualTo(MessageFlags.Seen | MessageFlags.Flagged | MessageFlags.Recent));
            Assert.That(afterRemove, Is.EqualTo(MessageFlags.Flagged | MessageFlags.Recent));
            Assert.That(afterSet, Is.EqualTo(MessageFlags.Deleted | MessageFlags.Answered | MessageFlags.Recent));
        });

        // Another session sees the stored flags (\Recent belongs to the first one only).
        using var other = await MailKitClients.ImapAsync(_server, address, Password);
        await other.Inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.That(await FlagsAsync(other.Inbox, uid), Is.EqualTo(MessageFlags.Deleted | MessageFlags.Answered));
    }

    [Test]
    public async Task CopyAndMoveReturnUidPlusMaps()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "move", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var inbox = client.Inbox;
        var uids = new List<UniqueId>();
        foreach (var subject in new[] { "one", "two", "three" })
        {
            uids.Add((await inbox.AppendAsync(new AppendRequest(MailKitClients.Message("anna@family.example", address, subject, March), MessageFlags.None)))!.Value);
        }
        var archive = await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync("Archive", isMessageFolder: true) ?? throw new AssertionException("CREATE Archive");
        var trash = await client.GetFolderAsync("Trash");
        await inbox.OpenAsync(FolderAccess.ReadWrite);

        var copied = await inbox.CopyToAsync([uids[0], uids[1]], trash);
        var moved = await inbox.MoveToAsync([uids[2]], archive);
        var remaining = await inbox.SearchAsync(SearchQuery.All);
        await archive.OpenAsync(FolderAccess.ReadOnly);
        var archived = await archive.FetchAsync(0, -1, new FetchRequest(MessageSummaryItems.UniqueId | MessageSummaryItems.Envelope));
        Assert.Multiple(() =>
        {
            Assert.That(copied.Source, Is.EqualTo(new[] { uids[0], uids[1] }));
            Assert.That(copied.Destination.Select(u => u.Id), Is.EqualTo(new uint[] { 1, 2 }), "COPYUID (RFC 4315)");
            Assert.That(copied.Destination[0].Validity, Is.Not.Zero);
            Assert.That(moved.Source, Is.EqualTo(new[] { uids[2] }));
            Assert.That(moved.Destination.Select(u => u.Id), Is.EqualTo(new uint[] { 1 }), "MOVE's COPYUID (RFC 6851)");
            Assert.That(remaining, Is.EqualTo(new[] { uids[0], uids[1] }), "MOVE expunged the source");
            Assert.That(archived.Single().UniqueId, Is.EqualTo(moved.Destination[0]));
            Assert.That(archived.Single().Envelope!.Subject, Is.EqualTo("three"));
        });
        var trashStatus = await StatusCountAsync(client, "Trash");
        Assert.That(trashStatus, Is.EqualTo(2));
    }

    [Test]
    public async Task ExpungeRemovesTheDeletedMessagesAndUidExpungeOnlyTheNamedOnes()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "expunge", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var inbox = client.Inbox;
        var uids = new List<UniqueId>();
        foreach (var subject in new[] { "keep", "drop one", "drop two", "deleted but kept" })
        {
            uids.Add((await inbox.AppendAsync(new AppendRequest(MailKitClients.Message("anna@family.example", address, subject, March), MessageFlags.None)))!.Value);
        }
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var expunged = new List<int>();
        inbox.MessageExpunged += (_, e) => expunged.Add(e.Index);

        await inbox.AddFlagsAsync([uids[1], uids[2], uids[3]], MessageFlags.Deleted, silent: true);
        await inbox.ExpungeAsync([uids[1], uids[2]]); // UID EXPUNGE (RFC 4315 §2.1)
        var subjects = (await inbox.FetchAsync(0, -1, new FetchRequest(MessageSummaryItems.Envelope))).Select(s => s.Envelope!.Subject).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(expunged, Has.Count.EqualTo(2));
            Assert.That(inbox.Count, Is.EqualTo(2));
            Assert.That(subjects, Is.EqualTo(new[] { "keep", "deleted but kept" }));
        });

        await inbox.ExpungeAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(expunged, Has.Count.EqualTo(3));
            Assert.That(inbox.Count, Is.EqualTo(1));
            Assert.That(await inbox.SearchAsync(SearchQuery.All), Is.EqualTo(new[] { uids[0] }));
        });
    }

    [Test]
    public async Task IdleSeesAnAppendFromAnotherClient()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "idle", Password);
        using var idler = await MailKitClients.ImapAsync(_server, address, Password);
        await idler.Inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.That(idler.Inbox.Count, Is.Zero);
        var counted = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        idler.Inbox.CountChanged += (sender, _) => counted.TrySetResult(((IMailFolder)sender!).Count);

        using var done = new CancellationTokenSource();
        var idle = idler.IdleAsync(done.Token);
        using (var other = await MailKitClients.ImapAsync(_server, address, Password, SecureSocketOptions.StartTls))
        {
            await other.Inbox.AppendAsync(new AppendRequest(MailKitClients.Message("anna@family.example", address, "while idling", March), MessageFlags.None));
            await other.DisconnectAsync(true);
        }
        var count = await counted.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await done.CancelAsync();
        await idle.WaitAsync(TimeSpan.FromSeconds(15));

        var subject = (await idler.Inbox.FetchAsync(0, -1, new FetchRequest(MessageSummaryItems.Envelope))).Single().Envelope!.Subject;
        Assert.Multiple(() =>
        {
            Assert.That(count, Is.EqualTo(1), "* 1 EXISTS during IDLE");
            Assert.That(idler.IsConnected, Is.True, "DONE ended IDLE, the session goes on");
            Assert.That(subject, Is.EqualTo("while idling"));
        });
    }

    [Test]
    public async Task CreatesSubscribesRenamesAndDeletesFolders()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "folders", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var root = client.GetFolder(client.PersonalNamespaces[0]);
        var projects = await root.CreateAsync("Projects", isMessageFolder: true) ?? throw new AssertionException("CREATE Projects");
        var year = await projects.CreateAsync("2026", isMessageFolder: true) ?? throw new AssertionException("CREATE Projects.2026");
        await year.SubscribeAsync();
        await year.AppendAsync(new AppendRequest(MailKitClients.Message("anna@family.example", address, "filed", March), MessageFlags.Seen));
        var afterCreate = await Names(client);
        var subscribed = (await client.GetFoldersAsync(client.PersonalNamespaces[0], StatusItems.None, subscribedOnly: true)).Select(f => f.FullName).ToList();
        var subfolders = (await projects.GetSubfoldersAsync()).Select(f => f.FullName).ToList();

        var createdName = year.FullName;
        await projects.RenameAsync(root, "Clients");
        var afterRename = await Names(client);
        var moved = await client.GetFolderAsync("Clients.2026");
        var movedStatus = await StatusCountAsync(client, "Clients.2026");

        await moved.DeleteAsync();
        await (await client.GetFolderAsync("Clients")).DeleteAsync();
        var afterDelete = await Names(client);
        Assert.Multiple(() =>
        {
            Assert.That(createdName, Is.EqualTo("Projects.2026"));
            Assert.That(year.FullName, Is.EqualTo("Clients.2026"), "MailKit renames the sub-folder objects with their parent");
            Assert.That(afterCreate, Does.Contain("Projects").And.Contain("Projects.2026"));
            Assert.That(subscribed, Does.Contain("Projects.2026").And.Not.Contain("Projects"));
            Assert.That(subfolders, Is.EqualTo(new[] { "Projects.2026" }));
            Assert.That(projects.FullName, Is.EqualTo("Clients"), "MailKit renames its folder object");
            Assert.That(afterRename, Does.Contain("Clients").And.Contain("Clients.2026").And.Not.Contain("Projects").And.Not.Contain("Projects.2026"));
            Assert.That(movedStatus, Is.EqualTo(1), "the message went with the renamed folder");
            Assert.That(afterDelete, Is.EquivalentTo(new[] { "INBOX", "Archive", "Drafts", "Sent", "Junk", "Trash" }));
        });
        Assert.ThrowsAsync<FolderNotFoundException>(() => client.GetFolderAsync("Projects"));
    }

    [Test]
    public async Task StatusCountsWithoutSelecting()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "status", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var sent = await client.GetFolderAsync("Sent");
        await sent.AppendAsync(new AppendRequest(MailKitClients.Message(address, "anna@family.example", "read", March), MessageFlags.Seen));
        await sent.AppendAsync(new AppendRequest(MailKitClients.Message(address, "anna@family.example", "unread", March), MessageFlags.None));

        await sent.StatusAsync(StatusItems.Count | StatusItems.Unread | StatusItems.UidNext | StatusItems.UidValidity | StatusItems.Recent);
        Assert.Multiple(() =>
        {
            Assert.That(sent.IsOpen, Is.False);
            Assert.That(sent.Count, Is.EqualTo(2));
            Assert.That(sent.Unread, Is.EqualTo(1));
            Assert.That(sent.Recent, Is.EqualTo(2));
            Assert.That(sent.UidNext?.Id, Is.EqualTo(3));
            Assert.That(sent.UidValidity, Is.Not.Zero);
        });
    }

    private static async Task<MessageFlags> FlagsAsync(IMailFolder folder, UniqueId uid) =>
        (await folder.FetchAsync([uid], new FetchRequest(MessageSummaryItems.Flags))).Single().Flags!.Value;

    private static async Task<int> StatusCountAsync(ImapClient client, string name)
    {
        var folder = await client.GetFolderAsync(name);
        await folder.StatusAsync(StatusItems.Count);
        return folder.Count;
    }

    private static async Task<List<string>> Names(ImapClient client) =>
        [.. (await client.GetFoldersAsync(client.PersonalNamespaces[0], StatusItems.None, subscribedOnly: false)).Select(f => f.FullName)];
}
