using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Storage;

[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class MailboxQuotaStoreTests(StoreProvider provider)
{
    private const string SomeHash = "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");
    private static readonly EmailAddress Leo = EmailAddress.Parse("leo@family.example");

    private string _directory = "";
    private MailboxStore _store = null!;
    private StoreJournal _journal = null!;
    private MailboxQuotaStore _quotas = null!;

    [SetUp]
    public async Task OpenStore()
    {
        _directory = TestDirectories.Create();
        var database = TestStores.Open(provider, _directory);
        _journal = new StoreJournal(database, TimeProvider.System, NullLogger<StoreJournal>.Instance);
        _store = new MailboxStore(database, TimeProvider.System, _journal, []);
        _quotas = new MailboxQuotaStore(database, _journal);
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        await _store.AddMailboxAsync(Leo, SomeHash, default);
    }

    [TearDown]
    public void RemoveDirectory() => TestDirectories.Remove(_directory);

    [Test]
    public async Task AMailboxQuotaWinsOverItsDomainDefaultAndNoneFallsBackToIt()
    {
        Assert.That(await _quotas.FindLimitAsync(Julie, default), Is.Null, "unlimited at first");
        await _quotas.SetDomainQuotaAsync("family.example", 1L << 30, default);
        await _quotas.SetMailboxQuotaAsync(Julie, 500L << 20, default);
        Assert.Multiple(async () =>
        {
            Assert.That(await _quotas.FindLimitAsync(Julie, default), Is.EqualTo(500L << 20));
            Assert.That(await _quotas.FindLimitAsync(Leo, default), Is.EqualTo(1L << 30));
            Assert.That(await _quotas.FindLimitAsync(EmailAddress.Parse("nobody@family.example"), default), Is.Null);
        });
        var listed = await _store.ListMailboxesAsync(null, default);
        Assert.That(listed.Select(m => (m.Address.ToString(), m.QuotaBytes, m.DomainQuotaBytes, m.EffectiveQuotaBytes)), Is.EqualTo(new[]
        {
            ("julie@family.example", (long?)(500L << 20), (long?)(1L << 30), (long?)(500L << 20)),
            ("leo@family.example", null, 1L << 30, 1L << 30),
        }));
        Assert.That((await _store.ListDomainsAsync(default)).Single().DefaultQuotaBytes, Is.EqualTo(1L << 30));

        await _quotas.SetMailboxQuotaAsync(Julie, null, default);
        Assert.That(await _quotas.FindLimitAsync(Julie, default), Is.EqualTo(1L << 30));
        await _quotas.SetDomainQuotaAsync("family.example", null, default);
        Assert.That(await _quotas.FindLimitAsync(Julie, default), Is.Null);

        var audit = await _journal.ListAsync(10, default);
        Assert.That(audit.Where(e => e.Event.EndsWith(".quota-changed", StringComparison.Ordinal)).Select(e => (e.Event, e.Subject, e.Reason)),
            Is.EquivalentTo(new[]
            {
                ("domain.quota-changed", "family.example", "admin request: quota 1G"),
                ("mailbox.quota-changed", "julie@family.example", "admin request: quota 500M"),
                ("mailbox.quota-changed", "julie@family.example", "admin request: quota none"),
                ("domain.quota-changed", "family.example", "admin request: quota none"),
            }));
    }

    [Test]
    public void AQuotaForAMailboxOrDomainThatDoesNotExistIsRefused()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => _quotas.SetMailboxQuotaAsync(EmailAddress.Parse("nobody@family.example"), 1, default),
                Throws.TypeOf<CredentialOperationException>().With.Message.EqualTo("mailbox nobody@family.example does not exist"));
            Assert.That(() => _quotas.SetDomainQuotaAsync("elsewhere.example", 1, default),
                Throws.TypeOf<CredentialOperationException>().With.Message.EqualTo("domain elsewhere.example does not exist"));
        });
    }
}
