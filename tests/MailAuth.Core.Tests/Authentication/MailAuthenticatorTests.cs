using System.Net;
using MailAuth.Core.Addresses;
using MailAuth.Core.Authentication;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Authentication;

[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class MailAuthenticatorTests(StoreProvider provider)
{
    private static readonly ClientContext Imap = new(LoginChannel.Imap, "PLAIN", IPAddress.Parse("192.0.2.7"), IsSecure: true);
    private static readonly HashingOptions Fast = new() { MemoryKiB = 1024, Iterations = 1 };
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");

    private string _directory = "";
    private MailboxStore _store = null!;
    private CountingHasher _hasher = null!;
    private HashingPool _pool = null!;
    private MailAuthenticator _authenticator = null!;

    [SetUp]
    public async Task CreateMailbox()
    {
        _directory = TestDirectories.Create();
        _store = new MailboxStore(TestStores.Open(provider, _directory), TimeProvider.System);
        _hasher = new CountingHasher(new PasswordHasher(Fast));
        _pool = new HashingPool(2, 16);
        _authenticator = new MailAuthenticator(_store, _hasher, _pool, NullLogger<MailAuthenticator>.Instance);
        await _store.AddDomainAsync("family.example", default);
        await _store.AddMailboxAsync(Julie, _hasher.Hash("123-Abc"), default);
        _hasher.Verified.Clear();
    }

    [TearDown]
    public void Dispose()
    {
        _pool.Dispose();
        TestDirectories.Remove(_directory);
    }

    [Test]
    public async Task RightPasswordSucceedsWithTheNormalisedAddress()
    {
        var result = await _authenticator.AuthenticateAsync("Julie@FAMILY.example", "123-Abc", Imap, default);
        Assert.That(result, Is.EqualTo(new AuthenticationResult(AuthenticationStatus.Succeeded, Julie, AuthenticationFailure.None)));
    }

    [TestCase("julie@family.example", "123-abc", AuthenticationFailure.WrongPassword)]
    [TestCase("julie@family.example", "", AuthenticationFailure.WrongPassword)]
    [TestCase("nobody@family.example", "123-Abc", AuthenticationFailure.UnknownAddress)]
    [TestCase("julie@other.example", "123-Abc", AuthenticationFailure.UnknownAddress)]
    [TestCase("not an address", "123-Abc", AuthenticationFailure.MalformedAddress)]
    public async Task EveryFailureLooksTheSameAndCostsOneVerification(string address, string password, AuthenticationFailure reason)
    {
        var result = await _authenticator.AuthenticateAsync(address, password, Imap, default);
        Assert.Multiple(() =>
        {
            Assert.That(result.Status, Is.EqualTo(AuthenticationStatus.Failed));
            Assert.That(result.Address, Is.Null, "a failure never tells the client which address exists");
            Assert.That(result.Failure, Is.EqualTo(reason));
            Assert.That(_hasher.Verified, Has.Count.EqualTo(1), "exactly one Argon2 verification, known address or not");
        });
    }

    [Test]
    public async Task UnknownAddressIsVerifiedAgainstTheDummyHash()
    {
        await _authenticator.AuthenticateAsync("nobody@family.example", "123-Abc", Imap, default);
        Assert.That(_hasher.Verified.Single(), Is.EqualTo(_hasher.DummyHash));
    }

    [Test]
    public async Task DisabledMailboxFailsEvenWithTheRightPasswordAfterTheSameWork()
    {
        await _store.SetDisabledAsync(Julie, "unpaid", default);
        var result = await _authenticator.AuthenticateAsync("julie@family.example", "123-Abc", Imap, default);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new AuthenticationResult(AuthenticationStatus.Failed, null, AuthenticationFailure.Disabled)));
            Assert.That(_hasher.Verified, Has.Count.EqualTo(1));
            Assert.That(_hasher.Verified.Single(), Is.Not.EqualTo(_hasher.DummyHash));
        });
    }

    [Test]
    public async Task OverlongPasswordIsNeverCheckedAgainstTheRealHash()
    {
        var result = await _authenticator.AuthenticateAsync("julie@family.example", new string('x', PasswordPolicy.MaxBytes + 1), Imap, default);
        Assert.That(result.Failure, Is.EqualTo(AuthenticationFailure.PasswordTooLong));
        Assert.That(_hasher.Verified.Single(), Is.EqualTo(_hasher.DummyHash));
    }

    [Test]
    public async Task LegacyHashIsUpgradedToArgon2idAtTheNextLogin()
    {
        // Drepper's SHA-crypt test vector for "Hello world!".
        await _store.SetPasswordHashAsync(Julie,
            "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", endSessions: true, default);
        var result = await _authenticator.AuthenticateAsync("julie@family.example", "Hello world!", Imap, default);
        Assert.That(result.Succeeded, Is.True);
        var stored = (await _store.FindAsync(Julie, default))!.PasswordHash;
        Assert.That(stored, Does.StartWith("{ARGON2ID}$argon2id$v=19$m=1024,t=1,p=1$"));
        Assert.That((await _authenticator.AuthenticateAsync("julie@family.example", "Hello world!", Imap, default)).Succeeded, Is.True);
        Assert.That((await _store.FindAsync(Julie, default))!.PasswordHash, Is.EqualTo(stored), "an up-to-date hash is left alone");
    }

    [Test]
    public async Task WeakerArgon2ParametersAreUpgraded()
    {
        using var strongerPool = new HashingPool(1, 4);
        var stronger = new PasswordHasher(new HashingOptions { MemoryKiB = 2048, Iterations = 2 });
        var authenticator = new MailAuthenticator(_store, stronger, strongerPool, NullLogger<MailAuthenticator>.Instance);
        Assert.That((await authenticator.AuthenticateAsync("julie@family.example", "123-Abc", Imap, default)).Succeeded, Is.True);
        Assert.That((await _store.FindAsync(Julie, default))!.PasswordHash, Does.Contain("$m=2048,t=2,p=1$"));
    }

    [Test]
    public async Task FailedLoginNeverRehashes()
    {
        var before = (await _store.FindAsync(Julie, default))!;
        await _authenticator.AuthenticateAsync("julie@family.example", "wrong", Imap, default);
        Assert.That(await _store.FindAsync(Julie, default), Is.EqualTo(before));
    }

    [Test]
    public async Task FullQueueAnswersTemporarilyUnavailableWithoutVerifying()
    {
        using var gate = new ManualResetEventSlim();
        using var pool = new HashingPool(1, 1);
        var blocking = new BlockingHasher(_hasher, gate);
        var authenticator = new MailAuthenticator(_store, blocking, pool, NullLogger<MailAuthenticator>.Instance);

        var running = authenticator.AuthenticateAsync("julie@family.example", "123-Abc", Imap, default);
        blocking.Started.Wait(TimeSpan.FromSeconds(10));
        // Other passwords: the same one would wait for the verification already running instead.
        var queued = authenticator.AuthenticateAsync("julie@family.example", "456-Def", Imap, default);
        var refused = await authenticator.AuthenticateAsync("julie@family.example", "789-Ghi", Imap, default);
        gate.Set();

        Assert.That(refused, Is.EqualTo(new AuthenticationResult(AuthenticationStatus.TemporarilyUnavailable, null, AuthenticationFailure.Busy)));
        Assert.That((await running).Succeeded, Is.True);
        Assert.That((await queued).Failure, Is.EqualTo(AuthenticationFailure.WrongPassword));
    }

    private sealed class CountingHasher(IPasswordHasher inner) : IPasswordHasher
    {
        public List<string> Verified { get; } = [];

        public string DummyHash => inner.DummyHash;

        public string Hash(string password) => inner.Hash(password);

        public PasswordCheck Verify(string storedHash, string password)
        {
            lock (Verified)
            {
                Verified.Add(storedHash);
            }
            return inner.Verify(storedHash, password);
        }
    }

    private sealed class BlockingHasher(IPasswordHasher inner, ManualResetEventSlim gate) : IPasswordHasher
    {
        public ManualResetEventSlim Started { get; } = new();

        public string DummyHash => inner.DummyHash;

        public string Hash(string password) => inner.Hash(password);

        public PasswordCheck Verify(string storedHash, string password)
        {
            Started.Set();
            gate.Wait(TimeSpan.FromSeconds(30));
            return inner.Verify(storedHash, password);
        }
    }
}
