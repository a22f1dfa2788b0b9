using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Accounts;

namespace MailAuth.Core.Tests.Storage;

/// <summary>Every credential change that must reach open sessions is in the log, written by the change's own transaction.</summary>
[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class MailboxChangeLogTests(StoreProvider provider)
{
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");
    private static readonly EmailAddress Anna = EmailAddress.Parse("anna@family.example");

    private AccountWorld _world = null!;
    private MailboxChangeLog _log = null!;

    [SetUp]
    public async Task CreateWorld()
    {
        _world = new AccountWorld(provider);
        _log = new MailboxChangeLog(_world.Database, _world.Clock);
        await _world.Admin.AddDomainAsync("family.example", default);
        await _world.Admin.AddMailboxAsync(Julie.ToString(), "Julie-Pass-1", default);
        await _world.Admin.AddMailboxAsync(Anna.ToString(), "Anna-Pass-1", default);
    }

    [TearDown]
    public void Dispose() => _world.Dispose();

    private async Task<IReadOnlyList<string>> ChangesAsync() =>
        [.. (await _log.ReadAfterAsync(0, 1000, default)).Select(c => $"{c.Position} {c.Address} {c.Kind} {(c.EndsSessions ? "ends" : "keeps")}")];

    [Test]
    public async Task AddingAMailboxIsNoChange()
    {
        Assert.That(await ChangesAsync(), Is.Empty);
        Assert.That(await _log.LatestPositionAsync(default), Is.Zero);
        Assert.That((await _world.MailboxStore.FindAsync(Julie, default))!.ChangeLogPosition, Is.Zero);
    }

    [Test]
    public async Task AdminChangesAreLoggedInOrder()
    {
        await _world.Admin.SetPasswordAsync(Julie.ToString(), "Julie-Pass-2", endSessions: true, default);
        await _world.Admin.SetPasswordAsync(Julie.ToString(), "Julie-Pass-3", endSessions: false, default);
        await _world.Admin.DisableMailboxAsync(Julie.ToString(), "unpaid", default);
        await _world.Admin.EnableMailboxAsync(Julie.ToString(), default);
        await _world.Admin.RemoveMailboxAsync(Julie.ToString(), default);
        await _world.Admin.RemoveDomainAsync("family.example", includingMailboxes: true, default);
        Assert.That(await ChangesAsync(), Is.EqualTo(new[]
        {
            "1 julie@family.example PasswordChanged ends",
            "2 julie@family.example PasswordChanged keeps",
            "3 julie@family.example Disabled ends",
            "4 julie@family.example Enabled keeps",
            "5 julie@family.example Removed ends",
            "6 anna@family.example Removed ends",
        }));
        Assert.That(await _log.LatestPositionAsync(default), Is.EqualTo(6));
    }

    [Test]
    public async Task ImportReplacingAPasswordIsAChange()
    {
        await _world.MailboxStore.ImportAsync(
            [new ImportedMailbox(Anna, "{PLAIN-HASHED-ELSEWHERE}x"), new ImportedMailbox(EmailAddress.Parse("new@family.example"), "{X}y")],
            createDomains: false, replaceExisting: true, null, default);
        Assert.That(await ChangesAsync(), Is.EqualTo(new[] { "1 anna@family.example PasswordChanged ends" }));
    }

    [Test]
    public async Task ManagerAccountPathsThatSetTheMailboxPasswordAreChanges()
    {
        await _world.Accounts.AddAsync(Julie.ToString(), "Account-Pass-1", "Julie Martin", "+41 79 123 45 67", "julie@elsewhere.example", default);
        await _world.Accounts.GrantAsync(Julie.ToString(), Julie.ToString(), canChangePassword: true, default);
        var outcome = await _world.Accounts.SetMailboxPasswordAsync(Julie.ToString(), Julie.ToString(), "Unified-Pass-2", unify: true, default);
        Assert.That(outcome.Result, Is.EqualTo(MailboxPasswordResult.Unified));
        await _world.Accounts.SetPasswordAsync(Julie.ToString(), "Unified-Pass-3", default);
        Assert.That(await ChangesAsync(), Is.EqualTo(new[]
        {
            "1 julie@family.example PasswordChanged ends",
            "2 julie@family.example PasswordChanged ends",
        }));
    }

    [Test]
    public async Task TheCredentialCarriesThePositionOfItsSnapshot()
    {
        await _world.Admin.SetPasswordAsync(Anna.ToString(), "Anna-Pass-2", endSessions: true, default);
        await _world.Admin.SetPasswordAsync(Anna.ToString(), "Anna-Pass-3", endSessions: true, default);
        var julie = await _world.MailboxStore.FindAsync(Julie, default);
        Assert.That(julie!.ChangeLogPosition, Is.EqualTo(2));
        Assert.That(await _log.EndsSessionsAfterAsync(Julie, julie.ChangeLogPosition, default), Is.False);
        Assert.That(await _log.EndsSessionsAfterAsync(Anna, 1, default), Is.True);
        Assert.That(await _log.EndsSessionsAfterAsync(Anna, 2, default), Is.False);

        var result = await _world.Authenticator.AuthenticateAsync(Julie.ToString(), "Julie-Pass-1",
            new MailAuth.Core.Authentication.ClientContext(MailAuth.Core.Authentication.LoginChannel.Imap, "PLAIN", System.Net.IPAddress.Loopback, true), default);
        Assert.That(result.ChangeLogPosition, Is.EqualTo(2));
    }

    [Test]
    public async Task PruningForgetsOldRowsButNeverReusesAPosition()
    {
        await _world.Admin.SetPasswordAsync(Anna.ToString(), "Anna-Pass-2", endSessions: true, default);
        _world.Clock.Now += TimeSpan.FromDays(2);
        Assert.That(await _log.PruneAsync(TimeSpan.FromDays(1), default), Is.EqualTo(1));
        Assert.That(await ChangesAsync(), Is.Empty);
        Assert.That(await _log.LatestPositionAsync(default), Is.EqualTo(1));
        await _world.Admin.SetPasswordAsync(Anna.ToString(), "Anna-Pass-3", endSessions: true, default);
        Assert.That(await ChangesAsync(), Is.EqualTo(new[] { "2 anna@family.example PasswordChanged ends" }));
    }
}
