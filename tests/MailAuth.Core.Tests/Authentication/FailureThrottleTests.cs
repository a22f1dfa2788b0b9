using System.Net;
using MailAuth.Core.Authentication;
using MailAuth.Core.Tests.Accounts;

namespace MailAuth.Core.Tests.Authentication;

[TestFixture]
public sealed class FailureThrottleTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("198.51.100.66");
    private static readonly IPAddress Neighbour = IPAddress.Parse("198.51.100.66");
    private static readonly IPAddress Elsewhere = IPAddress.Parse("203.0.113.9");

    private ManualClock _clock = null!;
    private FailureThrottle _throttle = null!;

    [SetUp]
    public void Create()
    {
        _clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        _throttle = new FailureThrottle(
            new ThrottleOptions { PairFailures = 5, AddressFailures = 20, NetworkFailures = 30, HalfLifeSeconds = 600, MaxDelaySeconds = 15 },
            [IPNetwork.Parse("192.0.2.0/24")],
            _clock);
    }

    [Test]
    public void PairIsBlockedAfterItsLimitWithAGrowingCappedDelay()
    {
        Fail(Attacker, "julie@family.example", 5);
        var first = _throttle.Check(Attacker, "julie@family.example");
        Assert.That(first.Blocked, Is.True);
        Assert.That(first.Limit, Is.EqualTo("address from this network"));
        var delays = Enumerable.Range(0, 12).Select(_ => _throttle.Check(Attacker, "julie@family.example").Delay).ToList();
        Assert.That(delays, Is.Ordered);
        Assert.That(delays[^1], Is.EqualTo(TimeSpan.FromSeconds(15)));
        Assert.That(_throttle.Check(Elsewhere, "julie@family.example").Blocked, Is.False, "another network is not affected by the pair limit");
    }

    [Test]
    public void TheSameStaleWrongPasswordCountsOnce()
    {
        for (var i = 0; i < 50; i++)
        {
            _throttle.Check(Attacker, "julie@family.example");
            _throttle.RecordFailure(Attacker, "julie@family.example", "old-password");
        }
        Assert.That(_throttle.Check(Attacker, "julie@family.example").Blocked, Is.False);
    }

    [Test]
    public void FailuresFadeWithTheHalfLife()
    {
        Fail(Attacker, "julie@family.example", 5);
        Assert.That(_throttle.Check(Attacker, "julie@family.example").Blocked, Is.True);
        _clock.Now += TimeSpan.FromSeconds(600 * 3);
        Assert.That(_throttle.Check(Attacker, "julie@family.example").Blocked, Is.False);
    }

    [Test]
    public void SprayingBlocksTheNetworkButNotAddressesThatRecentlyLoggedInFromIt()
    {
        _throttle.RecordSuccess(Neighbour, "anna@family.example");
        for (var i = 0; i < 30; i++)
        {
            Fail(Attacker, $"user{i}@family.example", 1);
        }
        Assert.Multiple(() =>
        {
            Assert.That(_throttle.Check(Attacker, "victim@family.example").Blocked, Is.True, "spraying blocked");
            Assert.That(_throttle.Check(Attacker, "victim@family.example").Limit, Is.EqualTo("network"));
            Assert.That(_throttle.Check(Neighbour, "anna@family.example").Blocked, Is.False, "the legitimate user behind the same NAT");
            Assert.That(_throttle.Check(Elsewhere, "victim@family.example").Blocked, Is.False);
        });
    }

    [Test]
    public void DistributedGuessingBlocksTheAddressExceptWhereItsOwnerLogsInFrom()
    {
        _throttle.RecordSuccess(Elsewhere, "julie@family.example");
        for (var i = 0; i < 20; i++)
        {
            Fail(IPAddress.Parse($"198.51.100.{i + 1}"), "julie@family.example", 1);
        }
        Assert.That(_throttle.Check(IPAddress.Parse("198.51.100.200"), "julie@family.example").Blocked, Is.True);
        Assert.That(_throttle.Check(Elsewhere, "julie@family.example").Blocked, Is.False, "the owner's usual network still gets through");
    }

    [Test]
    public void AnIpv6Slash64CountsAsOneNetwork()
    {
        for (var i = 0; i < 5; i++)
        {
            var host = IPAddress.Parse($"2001:db8:1:2::{i + 1:x}");
            _throttle.Check(host, "julie@family.example");
            _throttle.RecordFailure(host, "julie@family.example", $"guess-{i}");
        }
        Assert.That(_throttle.Check(IPAddress.Parse("2001:db8:1:2:ffff::1"), "julie@family.example").Blocked, Is.True);
        Assert.That(_throttle.Check(IPAddress.Parse("2001:db8:1:3::1"), "julie@family.example").Blocked, Is.False);
    }

    [Test]
    public void ConcurrentAttemptsCannotAllSlipUnderTheLimit()
    {
        // Twenty attempts admitted at once, before any of them has failed: only the limit's worth get through.
        var admitted = Enumerable.Range(0, 20).Count(i => !_throttle.Check(Attacker, $"user{i}@family.example").Blocked);
        Assert.That(admitted, Is.LessThanOrEqualTo(30));
        var burst = Enumerable.Range(0, 40).Count(i => !_throttle.Check(Attacker, $"other{i}@family.example").Blocked);
        Assert.That(admitted + burst, Is.EqualTo(30));
    }

    [Test]
    public void ParallelAttemptsOnOnePairAreHeldToItsLimitUntilItHasLoggedIn()
    {
        var parallel = Enumerable.Range(0, 8).Count(_ => !_throttle.Check(Attacker, "julie@family.example").Blocked);
        Assert.That(parallel, Is.EqualTo(5), "unknown to the address: in-flight attempts count as failures");

        _throttle.RecordSuccess(Attacker, "julie@family.example");
        // A mail client that logged in opens eight connections at once (Thunderbird, Apple Mail do five or more).
        var afterSuccess = Enumerable.Range(0, 8).Count(_ => !_throttle.Check(Attacker, "julie@family.example").Blocked);
        Assert.That(afterSuccess, Is.EqualTo(8));
    }

    [Test]
    public void APairThatLoggedInIsStillBlockedByItsFailures()
    {
        _throttle.Check(Attacker, "julie@family.example");
        _throttle.RecordSuccess(Attacker, "julie@family.example");

        Fail(Attacker, "julie@family.example", 5);

        Assert.That(_throttle.Check(Attacker, "julie@family.example").Blocked, Is.True);
    }

    [Test]
    public void SuccessAndAbandonedAttemptsAreRefunded()
    {
        for (var i = 0; i < 100; i++)
        {
            _throttle.Check(Attacker, "julie@family.example");
            if (i % 2 == 0)
            {
                _throttle.RecordSuccess(Attacker, "julie@family.example");
            }
            else
            {
                _throttle.RecordAbandoned(Attacker, "julie@family.example");
            }
        }
        Assert.That(_throttle.Snapshot(), Has.None.Property(nameof(ThrottleEntry.Blocked)).True);
    }

    [Test]
    public void TrustedNetworksAreNeverThrottled()
    {
        var trusted = IPAddress.Parse("192.0.2.10");
        Fail(trusted, "julie@family.example", 100);
        Assert.That(_throttle.Check(trusted, "julie@family.example").Blocked, Is.False);
        Assert.That(_throttle.Snapshot(), Is.Empty);
    }

    [Test]
    public void SnapshotAndClear()
    {
        Fail(Attacker, "julie@family.example", 5);
        var snapshot = _throttle.Snapshot();
        Assert.That(snapshot.Where(e => e.Blocked).Select(e => e.Kind), Is.EqualTo(new[] { "pair" }));
        Assert.That(snapshot.Select(e => e.Kind), Is.EquivalentTo(new[] { "pair", "address", "network" }));

        Assert.That(_throttle.Clear("198.51.100.66"), Is.EqualTo(2));
        Assert.That(_throttle.Check(Attacker, "julie@family.example").Blocked, Is.False);
        Fail(Attacker, "julie@family.example", 5);
        Assert.That(_throttle.Clear("Julie@family.example"), Is.EqualTo(2));
        Assert.That(_throttle.Check(Attacker, "julie@family.example").Blocked, Is.False);
    }

    [Test]
    public void MemoryStaysBounded()
    {
        var small = new FailureThrottle(new ThrottleOptions { MaxTrackedEntries = 1000 }, [], _clock);
        for (var i = 0; i < 20_000; i++)
        {
            var host = IPAddress.Parse($"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}");
            small.Check(host, $"u{i}@family.example");
            small.RecordFailure(host, $"u{i}@family.example", "x");
        }
        Assert.That(small.Snapshot(), Has.Count.LessThanOrEqualTo(1000));
    }

    private void Fail(IPAddress from, string address, int times)
    {
        for (var i = 0; i < times; i++)
        {
            _throttle.Check(from, address);
            _throttle.RecordFailure(from, address, $"guess-{Guid.NewGuid()}");
        }
    }
}
