using System.Data.Common;
using System.Net;
using MailAuth.Core.Addresses;
using MailAuth.Core.Authentication;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Authentication;

/// <summary>
/// Two nodes (each its own authenticator, memory throttle, cache and connection) on one store with
/// the failure counts shared through it: guesses spread over both count as on one node, a network
/// known to an address on one node is known on the other, and a cached login writes nothing.
/// </summary>
[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class SharedFailureCountsTests(StoreProvider provider)
{
    private static readonly IPAddress Phone = IPAddress.Parse("198.51.100.7");
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.9");
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");
    private static readonly ThrottleOptions Limits = new() { PairFailures = 5, AddressFailures = 8, MaxDelaySeconds = 0 };

    private string _directory = "";
    private HashingPool _pool = null!;
    private CountingHasher _hasher = null!;
    private StoreDatabase _database = null!;
    private MailAuthenticator _nodeA = null!;
    private MailAuthenticator _nodeB = null!;

    [SetUp]
    public async Task Create()
    {
        _directory = TestDirectories.Create();
        _database = TestStores.Open(provider, _directory);
        var inner = new PasswordHasher(new HashingOptions { MemoryKiB = 1024, Iterations = 1 });
        _hasher = new CountingHasher(inner);
        _pool = new HashingPool(2, 16);
        var admin = new MailboxStore(_database, TimeProvider.System);
        await admin.AddDomainAsync("family.example", default);
        await admin.AddMailboxAsync(Julie, inner.Hash("123-Abc"), default);
        _nodeA = Node(_database);
        _nodeB = Node(TestStores.Open(provider, _directory));
    }

    [TearDown]
    public void Dispose()
    {
        _pool.Dispose();
        TestDirectories.Remove(_directory);
    }

    private MailAuthenticator Node(StoreDatabase database) => new(
        new MailboxCredentialStore(database, TimeProvider.System),
        new CredentialVerifier(_hasher, _pool),
        new FailureThrottle(Limits, [], TimeProvider.System),
        new StoredFailureThrottle(database, Limits, TimeProvider.System, MailAuthenticator.ClusterThrottleRealm),
        new VerifiedLoginCache(TimeSpan.FromMinutes(5), TimeProvider.System),
        NullLogger<MailAuthenticator>.Instance);

    [Test]
    public async Task GuessesSpreadOverTwoNodesAreThrottledAsOnOne()
    {
        var answers = new List<AuthenticationFailure>();
        for (var guess = 1; guess <= 10; guess++)
        {
            var node = guess % 2 == 1 ? _nodeA : _nodeB;
            answers.Add((await Login(node, $"guess-{guess}", Attacker)).Failure);
        }
        // Each node saw five guesses: on its own, neither would refuse one (the pair limit is five).
        Assert.That(answers, Is.EqualTo(Enumerable.Repeat(AuthenticationFailure.WrongPassword, 5)
            .Concat(Enumerable.Repeat(AuthenticationFailure.Throttled, 5))));
        Assert.That(_hasher.Verifications, Is.EqualTo(5), "a throttled attempt costs no Argon2, on either node");

        // The same stale password again is refunded: it adds nothing to the shared counts.
        var before = await ThrottleRowsAsync();
        Assert.That((await Login(_nodeA, "guess-1", Phone)).Failure, Is.EqualTo(AuthenticationFailure.WrongPassword));
        Assert.That((await Login(_nodeA, "guess-1", Phone)).Failure, Is.EqualTo(AuthenticationFailure.WrongPassword));
        Assert.That(Score(await ThrottleRowsAsync(), "identifier", "julie@family.example"),
            Is.EqualTo(Score(before, "identifier", "julie@family.example") + 1).Within(0.05));
    }

    [Test]
    public async Task ANetworkKnownOnOneNodeKeepsReachingTheAddressOnTheOtherAndCachedLoginsWriteNothing()
    {
        Assert.That((await Login(_nodeA, "123-Abc", Phone)).Succeeded, Is.True);
        // Guesses from many networks reach the address limit (eight), half on each node.
        for (var guess = 1; guess <= 8; guess++)
        {
            var from = IPAddress.Parse($"203.0.113.{guess}");
            Assert.That((await Login(guess % 2 == 1 ? _nodeA : _nodeB, $"guess-{guess}", from)).Failure, Is.EqualTo(AuthenticationFailure.WrongPassword));
        }
        Assert.That((await Login(_nodeB, "guess-9", IPAddress.Parse("203.0.113.99"))).Failure, Is.EqualTo(AuthenticationFailure.Throttled));
        // Node B never saw the phone log in, but the store did: the phone is not held back.
        Assert.That((await Login(_nodeB, "123-Abc", Phone)).Succeeded, Is.True, "the network logged in through node A");

        var before = await ThrottleRowsAsync();
        for (var i = 0; i < 10; i++)
        {
            Assert.That((await Login(i % 2 == 0 ? _nodeA : _nodeB, "123-Abc", Phone)).Succeeded, Is.True);
        }
        Assert.That(_hasher.Verifications, Is.EqualTo(10), "one verification per node, then cached");
        Assert.That(await ThrottleRowsAsync(), Is.EqualTo(before), "cached logins leave the shared counts untouched");
    }

    private static Task<AuthenticationResult> Login(MailAuthenticator node, string password, IPAddress from) =>
        node.AuthenticateAsync(Julie.ToString(), password, new ClientContext(LoginChannel.Imap, "PLAIN", from, IsSecure: true), default);

    private static double Score(IReadOnlyList<string> rows, string kind, string key) =>
        rows.Where(r => r.StartsWith($"{kind}|{key}|", StringComparison.Ordinal))
            .Select(r => double.Parse(r.Split('|')[2], System.Globalization.CultureInfo.InvariantCulture))
            .SingleOrDefault();

    /// <summary>Every row of the mail logins' throttle tables, with the time it was last written.</summary>
    private async Task<IReadOnlyList<string>> ThrottleRowsAsync()
    {
        var rows = new List<string>();
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT kind || '|' || key || '|' || CAST(score AS TEXT) || '|' || at FROM throttle_scores WHERE realm = 'mail-login'
            UNION ALL SELECT 'success|' || network || '|' || key || '|' || at FROM throttle_successes WHERE realm = 'mail-login'
            ORDER BY 1
            """;
        await using DbDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }

    private sealed class CountingHasher(IPasswordHasher inner) : IPasswordHasher
    {
        private int _verifications;

        public int Verifications => Volatile.Read(ref _verifications);

        public string DummyHash => inner.DummyHash;

        public string Hash(string password) => inner.Hash(password);

        public PasswordCheck Verify(string storedHash, string password)
        {
            Interlocked.Increment(ref _verifications);
            return inner.Verify(storedHash, password);
        }
    }
}
