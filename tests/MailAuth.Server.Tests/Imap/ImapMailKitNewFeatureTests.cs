using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MimeKit;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// MailKit against the IMAP extensions of issue 15: keywords (Thunderbird's tags, <c>$Forwarded</c>),
/// <c>LIST (SPECIAL-USE)</c> (RFC 6154), CONDSTORE and QRESYNC (RFC 7162), as the RFCs define them.
/// </summary>
[TestFixture]
public sealed class ImapMailKitNewFeatureTests
{
    private const string Password = "MailKit-new 5";
    private static readonly DateTimeOffset March = new(2025, 3, 3, 12, 0, 0, TimeSpan.Zero);
    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        await MailKitClients.AddDomainAsync(_server);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task KeywordsAreStoredSearchableAndKeptAcrossSessions()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "keywords", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var inbox = client.Inbox;
        var forwarded = await AppendAsync(inbox, address, "forward me");
        var tagged = await AppendAsync(inbox, address, "tag me");
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.That(inbox.PermanentFlags.HasFlag(MessageFlags.UserDefined), Is.True, "PERMANENTFLAGS has \\* (RFC 3501 §7.1)");

        // Thunderbird marks a forwarded message $Forwarded and tags with $label1..5 or any word.
        await inbox.AddFlagsAsync(forwarded, MessageFlags.Seen, ["$Forwarded"], silent: true);
        await inbox.AddFlagsAsync(tagged, MessageFlags.None, ["$label1", "Project-X"], silent: false);
        await inbox.RemoveFlagsAsync(tagged, MessageFlags.None, ["Project-X"], silent: true);
        var summaries = await inbox.FetchAsync(0, -1, new FetchRequest(MessageSummaryItems.Flags | MessageSummaryItems.UniqueId));
        Assert.Multiple(async () =>
        {
            Assert.That(summaries[0].Keywords, Is.EquivalentTo(new[] { "$Forwarded" }));
            Assert.That(summaries[0].Flags!.Value.HasFlag(MessageFlags.Seen), Is.True);
            Assert.That(summaries[1].Keywords, Is.EquivalentTo(new[] { "$label1" }));
            Assert.That(await inbox.SearchAsync(SearchQuery.HasKeyword("$Forwarded")), Is.EqualTo(new[] { forwarded }));
            Assert.That(await inbox.SearchAsync(SearchQuery.NotKeyword("$label1")), Is.EqualTo(new[] { forwarded }));
        });

        using var other = await MailKitClients.ImapAsync(_server, address, Password);
        await other.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var again = await other.Inbox.FetchAsync([forwarded, tagged], new FetchRequest(MessageSummaryItems.Flags));
        Assert.Multiple(() =>
        {
            Assert.That(again[0].Keywords, Is.EquivalentTo(new[] { "$Forwarded" }));
            Assert.That(again[1].Keywords, Is.EquivalentTo(new[] { "$label1" }));
        });
    }

    [Test]
    public async Task KeywordsGoWithACopy()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "keywordcopy", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        var uid = (await client.Inbox.AppendAsync(new AppendRequest(
            MailKitClients.Message("anna@family.example", address, "keyword at append", March), MessageFlags.Flagged, ["$label2"])))!.Value;
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite);
        var archive = await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync("Archive", isMessageFolder: true) ?? throw new AssertionException("CREATE Archive");
        var copied = await client.Inbox.CopyToAsync(uid, archive);
        await archive.OpenAsync(FolderAccess.ReadOnly);
        var summary = (await archive.FetchAsync([copied!.Value], new FetchRequest(MessageSummaryItems.Flags))).Single();
        Assert.Multiple(() =>
        {
            Assert.That(summary.Keywords, Is.EquivalentTo(new[] { "$label2" }), "APPEND's keyword, kept by COPY");
            Assert.That(summary.Flags!.Value.HasFlag(MessageFlags.Flagged), Is.True);
        });
    }

    [Test]
    public async Task SpecialFoldersComeFromListSpecialUse()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "specialuse", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        Assert.Multiple(() =>
        {
            Assert.That(client.GetFolder(SpecialFolder.Sent)?.FullName, Is.EqualTo("Sent"));
            Assert.That(client.GetFolder(SpecialFolder.Drafts)?.FullName, Is.EqualTo("Drafts"));
            Assert.That(client.GetFolder(SpecialFolder.Junk)?.FullName, Is.EqualTo("Junk"));
            Assert.That(client.GetFolder(SpecialFolder.Trash)?.FullName, Is.EqualTo("Trash"));
            Assert.That(client.GetFolder(SpecialFolder.Archive)?.FullName, Is.EqualTo("Archive"), "issue 21: Thunderbird's Archive button");
        });
        await client.GetFolder(SpecialFolder.Sent)!.AppendAsync(new AppendRequest(MailKitClients.Message(address, "anna@family.example", "sent", March), MessageFlags.Seen));
        var sent = await client.GetFolderAsync("Sent");
        await sent.StatusAsync(StatusItems.Count);
        Assert.That(sent.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task CondstoreGivesModSeqsChangedSinceAndConditionalStore()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "condstore", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        Assert.That(client.Capabilities.HasFlag(ImapCapabilities.CondStore), Is.True, "CONDSTORE (RFC 7162 §3.1)");
        var inbox = client.Inbox;
        var first = await AppendAsync(inbox, address, "first");
        var second = await AppendAsync(inbox, address, "second");
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var opened = inbox.HighestModSeq;
        Assert.That(opened, Is.GreaterThan(0UL), "HIGHESTMODSEQ at SELECT");

        await inbox.AddFlagsAsync(second, MessageFlags.Flagged, silent: true);
        var changed = await inbox.FetchAsync([first, second], new FetchRequest(MessageSummaryItems.Flags | MessageSummaryItems.ModSeq) { ChangedSince = opened });
        // SEARCH MODSEQ n matches n and above (§3.1.5); FETCH CHANGEDSINCE n only above n (§3.1.4.1).
        var bySearch = await inbox.SearchAsync(SearchQuery.ChangedSince(opened + 1));
        var afterStore = (await inbox.FetchAsync([second], new FetchRequest(MessageSummaryItems.ModSeq))).Single().ModSeq!.Value;

        // A STORE UNCHANGEDSINCE an older mod-sequence fails for the changed message (§3.1.3).
        var unmodified = await inbox.StoreAsync([first, second], new StoreFlagsRequest(StoreAction.Add, MessageFlags.Seen) { Silent = true, UnchangedSince = opened });
        var seen = await inbox.SearchAsync(SearchQuery.Seen);
        var firstAfter = (await inbox.FetchAsync([first], new FetchRequest(MessageSummaryItems.ModSeq))).Single().ModSeq!.Value;
        Assert.Multiple(() =>
        {
            Assert.That(changed.Select(s => s.UniqueId), Is.EqualTo(new[] { second }), "FETCH (CHANGEDSINCE)");
            Assert.That(changed.Single().ModSeq, Is.GreaterThan(opened));
            Assert.That(bySearch, Is.EqualTo(new[] { second }), "SEARCH MODSEQ");
            Assert.That(unmodified, Is.EqualTo(new[] { second }), "[MODIFIED] names the message changed since");
            Assert.That(seen, Is.EqualTo(new[] { first }));
            Assert.That(firstAfter, Is.GreaterThan(afterStore), "every change gets a higher mod-sequence");
        });
    }

    [Test]
    public async Task QresyncOpenReportsWhatVanishedAndChangedWhileAway()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "qresync", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        Assert.That(client.Capabilities.HasFlag(ImapCapabilities.QuickResync), Is.True, "QRESYNC (RFC 7162 §3.2)");
        await client.EnableQuickResyncAsync();
        var inbox = client.Inbox;
        var uids = new List<UniqueId>();
        foreach (var subject in new[] { "stays", "goes", "gets flagged" })
        {
            uids.Add(await AppendAsync(inbox, address, subject));
        }
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var (validity, modSeq) = (inbox.UidValidity, inbox.HighestModSeq);
        await inbox.CloseAsync();

        // Another client changes the folder while this one is away.
        using (var other = await MailKitClients.ImapAsync(_server, address, Password))
        {
            await other.Inbox.OpenAsync(FolderAccess.ReadWrite);
            await other.Inbox.AddFlagsAsync(uids[1], MessageFlags.Deleted, silent: true);
            await other.Inbox.ExpungeAsync();
            await other.Inbox.AddFlagsAsync(uids[2], MessageFlags.Flagged, silent: true);
            await other.DisconnectAsync(true);
        }

        var vanished = new List<(UniqueId Uid, bool Earlier)>();
        var flagged = new List<(UniqueId? Uid, MessageFlags Flags)>();
        inbox.MessagesVanished += (_, e) => vanished.AddRange(e.UniqueIds.Select(u => (u, e.Earlier)));
        inbox.MessageFlagsChanged += (_, e) => flagged.Add((e.UniqueId, e.Flags));
        await inbox.OpenAsync(FolderAccess.ReadWrite, validity, modSeq, uids);
        Assert.Multiple(() =>
        {
            Assert.That(vanished, Is.EqualTo(new[] { (uids[1], true) }), "VANISHED (EARLIER) (RFC 7162 §3.2.5.1)");
            Assert.That(flagged.Select(f => f.Uid), Is.EqualTo(new UniqueId?[] { uids[2] }));
            Assert.That(flagged.Single().Flags.HasFlag(MessageFlags.Flagged), Is.True);
            Assert.That(inbox.Count, Is.EqualTo(2));
            Assert.That(inbox.HighestModSeq, Is.GreaterThan(modSeq));
        });
    }

    [Test]
    public async Task QresyncSessionsGetVanishedInsteadOfExpunge()
    {
        var address = await MailKitClients.AddMailboxAsync(_server, "vanished", Password);
        using var client = await MailKitClients.ImapAsync(_server, address, Password);
        await client.EnableQuickResyncAsync();
        var inbox = client.Inbox;
        var keep = await AppendAsync(inbox, address, "keep");
        var drop = await AppendAsync(inbox, address, "drop");
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var vanished = new List<UniqueId>();
        var expunged = 0;
        inbox.MessagesVanished += (_, e) => vanished.AddRange(e.UniqueIds);
        inbox.MessageExpunged += (_, _) => expunged++;

        await inbox.AddFlagsAsync(drop, MessageFlags.Deleted, silent: true);
        await inbox.ExpungeAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(vanished, Is.EqualTo(new[] { drop }), "* VANISHED replaces * EXPUNGE once QRESYNC is enabled (RFC 7162 §3.2.10)");
            Assert.That(expunged, Is.Zero);
            Assert.That(inbox.Count, Is.EqualTo(1));
            Assert.That(await inbox.SearchAsync(SearchQuery.All), Is.EqualTo(new[] { keep }));
        });
    }

    private static async Task<UniqueId> AppendAsync(IMailFolder folder, string address, string subject) =>
        (await folder.AppendAsync(new AppendRequest(MailKitClients.Message("anna@family.example", address, subject, March), MessageFlags.None)))!.Value;
}
