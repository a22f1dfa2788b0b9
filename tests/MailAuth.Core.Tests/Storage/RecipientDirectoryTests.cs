using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Storage;

namespace MailAuth.Core.Tests.Storage;

[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class RecipientDirectoryTests(StoreProvider provider)
{
    private const string SomeHash = "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";

    private string _directory = "";
    private MailboxStore _store = null!;
    private RecipientDirectory _recipients = null!;

    [SetUp]
    public async Task OpenStore()
    {
        _directory = TestDirectories.Create();
        var database = TestStores.Open(provider, _directory);
        _store = new MailboxStore(database, TimeProvider.System);
        _recipients = new RecipientDirectory(database);
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(EmailAddress.Parse("julie@family.example"), SomeHash, default);
        await _store.AddMailboxAsync(EmailAddress.Parse("leo@family.example"), SomeHash, default);
        await _store.SetDisabledAsync(EmailAddress.Parse("leo@family.example"), "left", default);
    }

    [TearDown]
    public void RemoveDirectory() => TestDirectories.Remove(_directory);

    [TestCase("julie@family.example", RecipientStatus.Mailbox)]
    [TestCase("leo@family.example", RecipientStatus.DisabledMailbox)]
    [TestCase("nobody@family.example", RecipientStatus.UnknownInHostedDomain)]
    [TestCase("julie@elsewhere.example", RecipientStatus.OtherDomain)]
    public async Task EachRecipientIsWhatTheStoreSays(string address, RecipientStatus status) =>
        Assert.That(await _recipients.FindAsync(EmailAddress.Parse(address), default), Is.EqualTo(status));

    [Test]
    public async Task ADomainAddedLaterCountsAtOnce()
    {
        var recipient = EmailAddress.Parse("anna@school.example");
        Assert.That(await _recipients.FindAsync(recipient, default), Is.EqualTo(RecipientStatus.OtherDomain));
        await _store.AddDomainAsync("school.example", default);
        Assert.That(await _recipients.FindAsync(recipient, default), Is.EqualTo(RecipientStatus.UnknownInHostedDomain));
    }
}
