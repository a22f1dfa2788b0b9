using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Storage;

[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class MailboxHomeStoreTests(StoreProvider provider)
{
    private const string SomeHash = "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");
    private static readonly EmailAddress Leo = EmailAddress.Parse("leo@family.example");
    private static readonly EmailAddress Anna = EmailAddress.Parse("anna@other.example");
    private static readonly EmailAddress Paul = EmailAddress.Parse("paul@other.example");

    private string _directory = "";
    private MailboxStore _store = null!;
    private MailboxHomeStore _homes = null!;

    [SetUp]
    public void OpenStore()
    {
        _directory = TestDirectories.Create();
        var database = TestStores.Open(provider, _directory);
        _store = new MailboxStore(database, TimeProvider.System, new StoreJournal(database, TimeProvider.System, NullLogger<StoreJournal>.Instance), []);
        _homes = new MailboxHomeStore(database);
    }

    [TearDown]
    public void RemoveDirectory() => TestDirectories.Remove(_directory);

    [Test]
    public async Task AMailboxIsHomedOnItsOwnNodeElseOnItsDomainsDefault()
    {
        await _store.AddDomainAsync("family.example", "node-b", default);
        await _store.AddDomainAsync("other.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        await _store.AddMailboxAsync(Leo, SomeHash, "node-a", default);
        await _store.AddMailboxAsync(Anna, SomeHash, "node-a", default);
        await _store.AddMailboxAsync(Paul, SomeHash, default);

        Assert.Multiple(async () =>
        {
            Assert.That(await _homes.FindHomeNodeAsync(Julie, default), Is.EqualTo("node-b"), "the domain's default");
            Assert.That(await _homes.FindHomeNodeAsync(Leo, default), Is.EqualTo("node-a"), "its own wins");
            Assert.That(await _homes.FindHomeNodeAsync(Paul, default), Is.Null, "none: neither its own nor a domain default");
            Assert.That(await _homes.FindHomeNodeAsync(EmailAddress.Parse("nobody@family.example"), default), Is.Null);
            Assert.That(await _homes.FindDomainNodeAsync("family.example", default), Is.EqualTo("node-b"));
            Assert.That(await _homes.FindDomainNodeAsync("other.example", default), Is.Null);
            Assert.That(await _homes.FindDomainNodeAsync("missing.example", default), Is.Null);
            Assert.That(await _homes.CountMailboxesByNodeAsync(default), Is.EquivalentTo(new[]
            {
                new NodeMailboxCount(null, 1), new NodeMailboxCount("node-a", 2), new NodeMailboxCount("node-b", 1),
            }));
            var listed = await _store.ListMailboxesAsync(null, default);
            Assert.That(listed.Select(m => (m.Address.LocalPart, m.HomeNode, m.DomainNode, m.EffectiveHomeNode)), Is.EqualTo(new[]
            {
                ("julie", (string?)null, (string?)"node-b", (string?)"node-b"),
                ("leo", "node-a", "node-b", "node-a"),
                ("anna", "node-a", null, "node-a"),
                ("paul", null, null, null),
            }));
            Assert.That((await _store.ListDomainsAsync(default)).Select(d => d.DefaultNode), Is.EqualTo(new[] { "node-b", null }));
        });
    }
}
