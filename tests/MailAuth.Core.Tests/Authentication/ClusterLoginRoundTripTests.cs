using System.Net;
using MailAuth.Core.Addresses;
using MailAuth.Core.Authentication;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Authentication;

/// <summary>
/// The round trips to PostgreSQL of each kind of mail login with the shared throttle, counted on
/// the wire (<see cref="PostgresRoundTripCounter"/>), so that a change adding one cannot pass
/// unnoticed: the throttle's scores and the credential travel together, and each write
/// transaction takes its lock with its first read.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
public sealed class ClusterLoginRoundTripTests
{
    private static readonly IPAddress Phone = IPAddress.Parse("198.51.100.7");
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.9");
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");
    private static readonly ThrottleOptions Limits = new() { PairFailures = 3, MaxDelaySeconds = 0 };

    private string _directory = "";
    private HashingPool _pool = null!;
    private PostgresRoundTripCounter _counter = null!;
    private PostgresDatabase _database = null!;

    [SetUp]
    public async Task Create()
    {
        _directory = TestDirectories.Create();
        var hasher = new PasswordHasher(new HashingOptions { MemoryKiB = 1024, Iterations = 1 });
        var admin = new MailboxStore(TestStores.Open(StoreProvider.PostgreSql, _directory), TimeProvider.System);
        await admin.AddDomainAsync("family.example", default);
        await admin.AddMailboxAsync(Julie, hasher.Hash("123-Abc"), default);
        _counter = new PostgresRoundTripCounter(TestStores.ConnectionString(_directory));
        _database = PostgresDatabase.Open(_counter.ConnectionString, _directory);
        _pool = new HashingPool(2, 16);
    }

    [TearDown]
    public void Dispose()
    {
        _pool.Dispose();
        _database.Dispose();
        _counter.Dispose();
        TestDirectories.Remove(_directory);
    }

    private MailAuthenticator Node() => new(
        new MailboxCredentialStore(_database, TimeProvider.System),
        new CredentialVerifier(new PasswordHasher(new HashingOptions { MemoryKiB = 1024, Iterations = 1 }), _pool),
        new FailureThrottle(Limits, [], TimeProvider.System),
        new StoredFailureThrottle(_database, Limits, TimeProvider.System, MailAuthenticator.ClusterThrottleRealm),
        new VerifiedLoginCache(TimeSpan.FromMinutes(5), TimeProvider.System),
        NullLogger<MailAuthenticator>.Instance);

    [Test]
    public async Task EachKindOfLoginMakesItsKnownNumberOfRoundTrips()
    {
        var node = Node();
        // Read (scores and credential), charge (lock and read, write, commit), settle (the same three).
        Assert.That(await RoundTripsAsync(node, Julie.ToString(), "123-Abc", Phone, AuthenticationFailure.None), Is.EqualTo(7), "verified login");
        Assert.That(await RoundTripsAsync(node, Julie.ToString(), "123-Abc", Phone, AuthenticationFailure.None), Is.EqualTo(1), "cached login: one read, no write");
        Assert.That(await RoundTripsAsync(node, Julie.ToString(), "wrong-1", Attacker, AuthenticationFailure.WrongPassword), Is.EqualTo(7), "wrong password");
        Assert.That(await RoundTripsAsync(node, "nobody@family.example", "wrong-2", Attacker, AuthenticationFailure.UnknownAddress), Is.EqualTo(7),
            "an unknown address costs what a wrong password does");
        Assert.That(await RoundTripsAsync(node, Julie.ToString(), "wrong-3", Attacker, AuthenticationFailure.WrongPassword), Is.EqualTo(7));
        Assert.That(await RoundTripsAsync(node, Julie.ToString(), "wrong-4", Attacker, AuthenticationFailure.WrongPassword), Is.EqualTo(7));

        // The pair limit (three) reached in the store: another node, whose memory has seen nothing, refuses
        // from the shared counts: the read, then the refusal counted (lock and read, write, commit).
        Assert.That(await RoundTripsAsync(Node(), Julie.ToString(), "wrong-5", Attacker, AuthenticationFailure.Throttled), Is.EqualTo(4), "refused by the shared counts");
    }

    private async Task<long> RoundTripsAsync(MailAuthenticator node, string address, string password, IPAddress from, AuthenticationFailure expected)
    {
        var before = _counter.RoundTrips;
        var result = await node.AuthenticateAsync(address, password, new ClientContext(LoginChannel.Imap, "PLAIN", from, IsSecure: true), default);
        Assert.That(result.Failure, Is.EqualTo(expected));
        return _counter.RoundTrips - before;
    }
}
