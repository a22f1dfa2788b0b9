using System.Net;
using MailAuth.Core.Addresses;
using MailAuth.Core.Authentication;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Authentication;

/// <summary>The authenticator with its cache and throttle on, as the server runs it.</summary>
[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class MailAuthenticatorCacheAndThrottleTests(StoreProvider provider)
{
    private static readonly ClientContext Phone = new(LoginChannel.Imap, "PLAIN", IPAddress.Parse("198.51.100.7"), IsSecure: true);
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");

    private string _directory = "";
    private MailboxStore _admin = null!;
    private CountingHasher _hasher = null!;
    private HashingPool _pool = null!;
    private MailAuthenticator _authenticator = null!;

    [SetUp]
    public async Task Create()
    {
        _directory = TestDirectories.Create();
        var database = TestStores.Open(provider, _directory);
        _admin = new MailboxStore(database, TimeProvider.System);
        var inner = new PasswordHasher(new HashingOptions { MemoryKiB = 1024, Iterations = 1 });
        _hasher = new CountingHasher(inner);
        _pool = new HashingPool(2, 16);
        _authenticator = new MailAuthenticator(
            new MailboxCredentialStore(database, TimeProvider.System), new CredentialVerifier(_hasher, _pool),
            new FailureThrottle(new ThrottleOptions { PairFailures = 3, MaxDelaySeconds = 0 }, [], TimeProvider.System),
            new VerifiedLoginCache(TimeSpan.FromMinutes(5), TimeProvider.System),
            NullLogger<MailAuthenticator>.Instance);
        await _admin.AddDomainAsync("family.example", default);
        await _admin.AddMailboxAsync(Julie, inner.Hash("123-Abc"), default);
    }

    [TearDown]
    public void Dispose()
    {
        _pool.Dispose();
        TestDirectories.Remove(_directory);
    }

    [Test]
    public async Task RepeatLoginsSkipArgon2()
    {
        for (var i = 0; i < 5; i++)
        {
            Assert.That((await Login("123-Abc")).Succeeded, Is.True);
        }
        Assert.That(_hasher.Verifications, Is.EqualTo(1));
        Assert.That((await Login("wrong")).Succeeded, Is.False);
        Assert.That(_hasher.Verifications, Is.EqualTo(2), "a wrong password always runs the full verification");
    }

    [TestCase("password change")]
    [TestCase("disable")]
    [TestCase("removal")]
    public async Task EveryChangeThroughAnotherConnectionInvalidatesTheCache(string change)
    {
        Assert.That((await Login("123-Abc")).Succeeded, Is.True);
        // A separate store and connection, as the CLI in another process would use.
        var otherProcess = new MailboxStore(TestStores.Open(provider, _directory), TimeProvider.System);
        switch (change)
        {
            case "password change":
                await otherProcess.SetPasswordHashAsync(Julie, new PasswordHasher(new HashingOptions { MemoryKiB = 1024, Iterations = 1 }).Hash("New-2"), endSessions: true, default);
                break;
            case "disable":
                await otherProcess.SetDisabledAsync(Julie, "unpaid", default);
                break;
            default:
                await otherProcess.RemoveMailboxAsync(Julie, default);
                break;
        }
        Assert.That((await Login("123-Abc")).Succeeded, Is.False);
    }

    [Test]
    public async Task ThrottledAttemptsCostNoVerification()
    {
        foreach (var guess in new[] { "a", "b", "c" })
        {
            await Login(guess);
        }
        var before = _hasher.Verifications;
        var refused = await Login("123-Abc");
        Assert.That(refused, Is.EqualTo(new AuthenticationResult(AuthenticationStatus.Failed, null, AuthenticationFailure.Throttled)));
        Assert.That(_hasher.Verifications, Is.EqualTo(before));
        var unknown = await _authenticator.AuthenticateAsync("nobody@family.example", "x", Phone, default);
        Assert.That(unknown.Failure, Is.EqualTo(AuthenticationFailure.UnknownAddress), "other addresses are not caught by the pair limit");
    }

    private Task<AuthenticationResult> Login(string password) => _authenticator.AuthenticateAsync("julie@family.example", password, Phone, default);

    [Test]
    public async Task ParallelLoginsWithTheSamePasswordShareOneVerificationAndAreOneGuess()
    {
        _hasher.Gate.Reset();
        var first = Login("123-Abc");
        await WaitUntil(() => _hasher.Verifications == 1);
        // Seven more connections of the same client while the first is verified: more than the
        // pair limit (3 here), which would refuse them if each counted as a guess in flight.
        var others = Enumerable.Range(0, 7).Select(_ => Login("123-Abc")).ToList();
        await WaitUntil(() => _authenticator.SharedVerifications.Waiting == 7);
        _hasher.Gate.Set();

        var results = await Task.WhenAll(others.Prepend(first));

        Assert.That(results.Select(r => r.Status), Is.All.EqualTo(AuthenticationStatus.Succeeded));
        Assert.That(_hasher.Verifications, Is.EqualTo(1));
    }

    [Test]
    public async Task ParallelWrongPasswordsAreNotSharedAndEachCounts()
    {
        _hasher.Gate.Reset();
        var guesses = Enumerable.Range(0, 6).Select(i => Login($"guess-{i}")).ToList();
        await WaitUntil(() => guesses.Count(g => g.IsCompleted) == 3);
        _hasher.Gate.Set();

        var results = await Task.WhenAll(guesses);

        Assert.That(_hasher.Verifications, Is.EqualTo(3), "only the pair limit's worth of different guesses is verified");
        Assert.That(results.Count(r => r.Failure == AuthenticationFailure.Throttled), Is.EqualTo(3));
    }

    [Test]
    public async Task ALoginAfterAPasswordChangeDoesNotShareTheOldVerification()
    {
        _hasher.Gate.Reset();
        var before = Login("123-Abc");
        await WaitUntil(() => _hasher.Verifications == 1);
        var otherProcess = new MailboxStore(TestStores.Open(provider, _directory), TimeProvider.System);
        await otherProcess.SetPasswordHashAsync(Julie, new PasswordHasher(new HashingOptions { MemoryKiB = 1024, Iterations = 1 }).Hash("New-2"), endSessions: true, default);

        var after = Login("123-Abc");
        await WaitUntil(() => _hasher.Verifications == 2);
        _hasher.Gate.Set();

        Assert.That((await before).Succeeded, Is.True, "verified against the password it read");
        Assert.That((await after).Succeeded, Is.False, "ran its own verification against the new hash");
        Assert.That(_authenticator.SharedVerifications.Waiting, Is.Zero);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out");
            await Task.Delay(5);
        }
    }

    private sealed class CountingHasher(IPasswordHasher inner) : IPasswordHasher
    {
        private int _verifications;

        public int Verifications => Volatile.Read(ref _verifications);

        public string DummyHash => inner.DummyHash;

        public string Hash(string password) => inner.Hash(password);

        /// <summary>While reset, every verification waits: the test decides when parallel logins finish.</summary>
        public ManualResetEventSlim Gate { get; } = new(initialState: true);

        public PasswordCheck Verify(string storedHash, string password)
        {
            Interlocked.Increment(ref _verifications);
            Gate.Wait(TimeSpan.FromSeconds(30));
            return inner.Verify(storedHash, password);
        }
    }
}
