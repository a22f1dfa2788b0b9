using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Storage;

namespace MailAuth.Core.Tests.Storage;

[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class MailboxStoreTests(StoreProvider provider)
{
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");
    private const string SomeHash = "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
    private const string OtherHash = "{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF4Ic9xW7";

    private string _directory = "";
    private MailboxStore _store = null!;

    [SetUp]
    public void OpenStore()
    {
        _directory = TestDirectories.Create();
        _store = new MailboxStore(TestStores.Open(provider, _directory), TimeProvider.System);
    }

    [TearDown]
    public void RemoveDirectory() => TestDirectories.Remove(_directory);

    [Test]
    public async Task MailboxNeedsAnExistingDomain()
    {
        var e = Assert.ThrowsAsync<CredentialOperationException>(() => _store.AddMailboxAsync(Julie, SomeHash, default));
        Assert.That(e!.Message, Is.EqualTo("domain family.example does not exist; add it first with 'domain add family.example'"));
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        var credential = await _store.FindAsync(Julie, default);
        Assert.That(credential, Is.EqualTo(new MailboxCredential(Julie, SomeHash, false, 1)));
    }

    [Test]
    public async Task DuplicatesAreRefused()
    {
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        Assert.Multiple(() =>
        {
            Assert.That(Assert.ThrowsAsync<CredentialOperationException>(() => _store.AddDomainAsync("family.example", default))!.Message,
                Is.EqualTo("domain family.example already exists"));
            Assert.That(Assert.ThrowsAsync<CredentialOperationException>(() => _store.AddMailboxAsync(Julie, OtherHash, default))!.Message,
                Is.EqualTo("mailbox julie@family.example already exists"));
        });
        Assert.That((await _store.FindAsync(Julie, default))!.PasswordHash, Is.EqualTo(SomeHash));
    }

    [Test]
    public async Task EveryCredentialChangeBumpsTheVersion()
    {
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        await _store.SetPasswordHashAsync(Julie, OtherHash, endSessions: true, default);
        // The last number: the change log position, one row per change.
        Assert.That(await _store.FindAsync(Julie, default), Is.EqualTo(new MailboxCredential(Julie, OtherHash, false, 2, 1)));
        await _store.SetDisabledAsync(Julie, "unpaid", default);
        Assert.That(await _store.FindAsync(Julie, default), Is.EqualTo(new MailboxCredential(Julie, OtherHash, true, 3, 2)));
        Assert.That((await _store.FindMailboxAsync(Julie, default))!.DisabledReason, Is.EqualTo("unpaid"));
        await _store.SetDisabledAsync(Julie, null, default);
        Assert.That(await _store.FindAsync(Julie, default), Is.EqualTo(new MailboxCredential(Julie, OtherHash, false, 4, 3)));
    }

    [Test]
    public async Task HashUpgradeLosesToAConcurrentPasswordChange()
    {
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        var verified = (await _store.FindAsync(Julie, default))!;
        await _store.SetPasswordHashAsync(Julie, OtherHash, endSessions: true, default);
        Assert.That(await _store.TryUpgradeHashAsync(verified, "{ARGON2ID}new", default), Is.False);
        Assert.That((await _store.FindAsync(Julie, default))!.PasswordHash, Is.EqualTo(OtherHash));

        var current = (await _store.FindAsync(Julie, default))!;
        Assert.That(await _store.TryUpgradeHashAsync(current, "{ARGON2ID}new", default), Is.True);
        Assert.That((await _store.FindAsync(Julie, default))!.PasswordHash, Is.EqualTo("{ARGON2ID}new"));
    }

    [Test]
    public async Task ChangesToMissingMailboxesAreRefused()
    {
        Assert.Multiple(() =>
        {
            foreach (var change in new Func<Task>[]
            {
                () => _store.SetPasswordHashAsync(Julie, SomeHash, endSessions: true, default),
                () => _store.SetDisabledAsync(Julie, "x", default),
                () => _store.RemoveMailboxAsync(Julie, default),
            })
            {
                Assert.That(Assert.ThrowsAsync<CredentialOperationException>(() => change())!.Message,
                    Is.EqualTo("mailbox julie@family.example does not exist"));
            }
        });
        Assert.That(await _store.FindAsync(Julie, default), Is.Null);
    }

    [Test]
    public async Task DomainWithMailboxesIsOnlyRemovedWhenAskedExplicitly()
    {
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        var e = Assert.ThrowsAsync<CredentialOperationException>(() => _store.RemoveDomainAsync("family.example", false, default));
        Assert.That(e!.Message, Does.Contain("still has 1 mailbox(es)"));
        Assert.That(await _store.FindAsync(Julie, default), Is.Not.Null);

        var removed = await _store.RemoveDomainAsync("family.example", true, default);
        Assert.That(removed, Is.EqualTo(new[] { Julie }));
        Assert.That(await _store.FindAsync(Julie, default), Is.Null);
        Assert.That(await _store.ListDomainsAsync(default), Is.Empty);
    }

    [Test]
    public async Task ImportIsAllOrNothing()
    {
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        var batch = new[]
        {
            new ImportedMailbox(EmailAddress.Parse("anna@family.example"), OtherHash),
            new ImportedMailbox(Julie, OtherHash),
        };
        Assert.ThrowsAsync<CredentialOperationException>(() => _store.ImportAsync(batch, false, false, null, default));
        Assert.That(await _store.ListMailboxesAsync(null, default), Has.Count.EqualTo(1));

        await _store.ImportAsync(batch, false, replaceExisting: true, null, default);
        Assert.That(await _store.ListMailboxesAsync(null, default), Has.Count.EqualTo(2));
        Assert.That(await _store.FindAsync(Julie, default), Is.EqualTo(new MailboxCredential(Julie, OtherHash, false, 2, ChangeLogPosition: 1)));
    }

    [Test]
    public async Task ImportCreatesDomainsOnlyWhenAsked()
    {
        var batch = new[] { new ImportedMailbox(EmailAddress.Parse("bob@new.example"), OtherHash) };
        var e = Assert.ThrowsAsync<CredentialOperationException>(() => _store.ImportAsync(batch, false, false, null, default));
        Assert.That(e!.Message, Is.EqualTo("domain new.example does not exist (for bob@new.example)"));
        await _store.ImportAsync(batch, createDomains: true, false, null, default);
        Assert.That((await _store.ListDomainsAsync(default)).Single().Name, Is.EqualTo("new.example"));
    }

    [Test]
    public async Task ListingShowsTheSchemeButNeverTheHash()
    {
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, SomeHash, default);
        var listed = (await _store.ListMailboxesAsync("family.example", default)).Single();
        Assert.That(listed.HashScheme, Is.EqualTo("SHA512-CRYPT"));
        Assert.That(listed.ToString(), Does.Not.Contain("saltstring"));
    }
}
