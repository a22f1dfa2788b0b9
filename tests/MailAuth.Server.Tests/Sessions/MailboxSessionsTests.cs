using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Hosting;
using MailAuth.Server.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Server.Tests.Sessions;

/// <summary>
/// The session registry and the change-log watcher on a real store, without sockets: which
/// sessions a change ends, and the login that races a change the watcher has already handled.
/// </summary>
[TestFixture]
public sealed class MailboxSessionsTests
{
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");
    private static readonly EmailAddress Anna = EmailAddress.Parse("anna@family.example");

    private MailAuthProcess _data = null!;
    private ServiceProvider _services = null!;
    private MailboxAdministration _admin = null!;
    private IMailboxCredentialStore _credentials = null!;
    private CountingFeed _feed = null!;
    private MailboxSessions _sessions = null!;
    private MailboxChangeWatcher _watcher = null!;

    [SetUp]
    public async Task CreateStore()
    {
        _data = new MailAuthProcess();
        var options = new MailAuthOptions { DataDirectory = _data.DataDirectory };
        options.Hashing.MemoryKiB = 1024;
        options.Hashing.Iterations = 1;
        _services = new ServiceCollection().AddLogging().AddMailAuth(options).BuildServiceProvider();
        _admin = _services.GetRequiredService<MailboxAdministration>();
        _credentials = _services.GetRequiredService<IMailboxCredentialStore>();
        _feed = new CountingFeed(_services.GetRequiredService<IMailboxChangeFeed>());
        _sessions = new MailboxSessions(_feed);
        _watcher = new MailboxChangeWatcher(_feed, _sessions, TimeProvider.System, NullLogger<MailboxChangeWatcher>.Instance);
        await _admin.AddDomainAsync("family.example", default);
        await _admin.AddMailboxAsync(Julie.ToString(), "Julie-Pass-1", default);
        await _admin.AddMailboxAsync(Anna.ToString(), "Anna-Pass-1", default);
        await _admin.SetPasswordAsync(Anna.ToString(), "Anna-Pass-2", endSessions: true, default);
        await _watcher.InitializeAsync(default);
    }

    [TearDown]
    public async Task DeleteStore()
    {
        _watcher.Dispose();
        await _services.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>The change-log position a login of <paramref name="address"/> would get now.</summary>
    private async Task<long> LoginPositionAsync(EmailAddress address) => (await _credentials.FindAsync(address, default))!.ChangeLogPosition;

    private async Task<MailboxSession> LogInAsync(EmailAddress address) =>
        await _sessions.OpenAsync(address, await LoginPositionAsync(address), default);

    [Test]
    public async Task AChangeThatEndsSessionsEndsThoseOpenedBeforeItAndNoOthers()
    {
        using var before = await LogInAsync(Julie);
        using var other = await LogInAsync(Anna);
        await _admin.SetPasswordAsync(Julie.ToString(), "Julie-Pass-2", endSessions: true, default);
        using var after = await LogInAsync(Julie);

        Assert.That(await _watcher.PollAsync(default), Is.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(before.IsEnded, Is.True);
            Assert.That(before.Ended.IsCancellationRequested, Is.True);
            Assert.That(before.Reason, Is.EqualTo(SessionEndReason.CredentialsChanged));
            Assert.That(after.IsEnded, Is.False, "a login with the new password");
            Assert.That(other.IsEnded, Is.False, "another mailbox");
        });
        Assert.That(await _watcher.PollAsync(default), Is.Zero, "a change is handled once");
    }

    [Test]
    public async Task DisableAndRemovalEndSessionsWhileKeepSessionsAndEnableDoNot()
    {
        using var julie = await LogInAsync(Julie);
        using var anna = await LogInAsync(Anna);
        await _admin.SetPasswordAsync(Julie.ToString(), "Julie-Pass-2", endSessions: false, default);
        await _admin.DisableMailboxAsync(Anna.ToString(), "unpaid", default);
        await _admin.EnableMailboxAsync(Anna.ToString(), default);
        Assert.That(await _watcher.PollAsync(default), Is.EqualTo(1));
        Assert.That((julie.IsEnded, anna.IsEnded), Is.EqualTo((false, true)));

        await _admin.RemoveMailboxAsync(Julie.ToString(), default);
        Assert.That(await _watcher.PollAsync(default), Is.EqualTo(1));
        Assert.That(julie.IsEnded, Is.True);
    }

    [Test]
    public async Task RemovalAndANewMailboxAtTheSameAddressEndTheOldOwnersSessionsOnly()
    {
        using var oldOwner = await LogInAsync(Julie);
        await _admin.RemoveMailboxAsync(Julie.ToString(), default);
        await _admin.AddMailboxAsync(Julie.ToString(), "New-Owner-1", default);
        using var newOwner = await LogInAsync(Julie);

        await _watcher.PollAsync(default);
        Assert.That((oldOwner.IsEnded, newOwner.IsEnded), Is.EqualTo((true, false)));
    }

    [Test]
    public async Task ALoginThatReadItsCredentialBeforeAChangeTheWatcherAlreadyHandledIsEndedWhenItRegisters()
    {
        // The login reads its credential (position K), then the password changes (N > K) and the
        // watcher handles N while no session of Julie is registered yet.
        var position = await LoginPositionAsync(Julie);
        await _admin.SetPasswordAsync(Julie.ToString(), "Julie-Pass-2", endSessions: true, default);
        Assert.That(await _watcher.PollAsync(default), Is.Zero);
        Assert.That(_sessions.WatchedUpTo, Is.GreaterThan(position));

        using var late = await _sessions.OpenAsync(Julie, position, default);
        Assert.That(late.IsEnded, Is.True, "the session must never be usable");
        Assert.That(late.Reason, Is.EqualTo(SessionEndReason.CredentialsChanged));

        using var fresh = await LogInAsync(Julie);
        Assert.That(fresh.IsEnded, Is.False, "a login that read the new credential");
    }

    [Test]
    public async Task ALoginRacingAChangeTheWatcherHasNotReadYetIsEndedByTheWatcher()
    {
        var position = await LoginPositionAsync(Julie);
        await _admin.DisableMailboxAsync(Julie.ToString(), "unpaid", default);
        using var session = await _sessions.OpenAsync(Julie, position, default);
        Assert.That(session.IsEnded, Is.False);
        Assert.That(_feed.EndsSessionsQueries, Is.Zero, "the watcher is not past the login: no query");

        Assert.That(await _watcher.PollAsync(default), Is.EqualTo(1));
        Assert.That(session.IsEnded, Is.True);
    }

    [Test]
    public async Task AChangeThatKeepsSessionsDoesNotEndARacingLogin()
    {
        var position = await LoginPositionAsync(Julie);
        await _admin.SetPasswordAsync(Julie.ToString(), "Julie-Pass-2", endSessions: false, default);
        await _watcher.PollAsync(default);
        using var session = await _sessions.OpenAsync(Julie, position, default);
        Assert.That(session.IsEnded, Is.False);
        Assert.That(_feed.EndsSessionsQueries, Is.EqualTo(1));
    }

    [Test]
    public async Task KickEndsEverySessionOfTheAddressOnce()
    {
        using var first = await LogInAsync(Julie);
        using var second = await LogInAsync(Julie);
        using var anna = await LogInAsync(Anna);

        Assert.That(_sessions.EndAll(Julie, SessionEndReason.Kicked), Is.EqualTo(2));
        Assert.That(_sessions.EndAll(Julie, SessionEndReason.Kicked), Is.Zero, "already ended");
        Assert.Multiple(() =>
        {
            Assert.That(first.Reason, Is.EqualTo(SessionEndReason.Kicked));
            Assert.That(second.Reason, Is.EqualTo(SessionEndReason.Kicked));
            Assert.That(anna.IsEnded, Is.False);
        });
        await _admin.SetPasswordAsync(Julie.ToString(), "Julie-Pass-2", endSessions: true, default);
        await _watcher.PollAsync(default);
        Assert.That(first.Reason, Is.EqualTo(SessionEndReason.Kicked), "the first reason stays");
    }

    [Test]
    public async Task AClosedSessionLeavesTheRegistry()
    {
        var session = await LogInAsync(Julie);
        using (await LogInAsync(Julie))
        {
            Assert.That(_sessions.Count(Julie), Is.EqualTo(2));
        }
        session.Dispose();
        Assert.That(_sessions.Count(Julie), Is.Zero);
        Assert.That(_sessions.EndAll(Julie, SessionEndReason.Kicked), Is.Zero);
    }

    [Test]
    public async Task TheWatcherStartsAtTheNewestChangeAndFollowsTheLog()
    {
        Assert.That(_sessions.WatchedUpTo, Is.EqualTo(await _feed.LatestPositionAsync(default)), "Anna's earlier change is not replayed");
        using var session = await LogInAsync(Anna);
        Assert.That(await _watcher.PollAsync(default), Is.Zero);
        await _admin.SetPasswordAsync(Julie.ToString(), "Julie-Pass-2", endSessions: false, default);
        await _admin.RemoveMailboxAsync(Anna.ToString(), default);
        Assert.That(await _watcher.PollAsync(default), Is.EqualTo(1));
        Assert.That(session.IsEnded, Is.True);
        Assert.That(_sessions.WatchedUpTo, Is.EqualTo(await _feed.LatestPositionAsync(default)));
    }

    /// <summary>The real feed, counting the registry's store queries.</summary>
    private sealed class CountingFeed(IMailboxChangeFeed inner) : IMailboxChangeFeed
    {
        public int EndsSessionsQueries { get; private set; }

        public Task<long> LatestPositionAsync(CancellationToken cancellationToken) => inner.LatestPositionAsync(cancellationToken);

        public Task<IReadOnlyList<MailboxChange>> ReadAfterAsync(long position, int limit, CancellationToken cancellationToken) =>
            inner.ReadAfterAsync(position, limit, cancellationToken);

        public Task<bool> EndsSessionsAfterAsync(EmailAddress address, long position, CancellationToken cancellationToken)
        {
            EndsSessionsQueries++;
            return inner.EndsSessionsAfterAsync(address, position, cancellationToken);
        }

        public Task<int> PruneAsync(TimeSpan age, CancellationToken cancellationToken) => inner.PruneAsync(age, cancellationToken);
    }
}
