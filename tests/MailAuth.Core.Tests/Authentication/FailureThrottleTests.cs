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
        var first = Check(Attacker, "julie@family.example");
        Assert.That(first.Blocked, Is.True);
        Assert.That(first.Limit, Is.EqualTo("address from this network"));
        var delays = Enumerable.Range(0, 12).Select(_ => Check(Attacker, "julie@family.example").Delay).ToList();
        Assert.That(delays, Is.Ordered);
        Assert.That(delays[^1], Is.EqualTo(TimeSpan.FromSeconds(15)));
        Assert.That(Check(Elsewhere, "julie@family.example").Blocked, Is.False, "another network is not affected by the pair limit");
    }

    [Test]
    public void TheSameStaleWrongPasswordCountsOnce()
    {
        for (var i = 0; i < 50; i++)
        {
            Guess(_throttle, Attacker, "julie@family.example").Failed("old-password");
        }
        Assert.That(Check(Attacker, "julie@family.example").Blocked, Is.False);
    }

    [Test]
    public void FailuresFadeWithTheHalfLife()
    {
        Fail(Attacker, "julie@family.example", 5);
        Assert.That(Check(Attacker, "julie@family.example").Blocked, Is.True);
        _clock.Now += TimeSpan.FromSeconds(600 * 3);
        Assert.That(Check(Attacker, "julie@family.example").Blocked, Is.False);
    }

    [Test]
    public void SprayingBlocksTheNetworkButNotAddressesThatRecentlyLoggedInFromIt()
    {
        Succeed(Neighbour, "anna@family.example");
        for (var i = 0; i < 30; i++)
        {
            Fail(Attacker, $"user{i}@family.example", 1);
        }
        Assert.Multiple(() =>
        {
            Assert.That(Check(Attacker, "victim@family.example").Blocked, Is.True, "spraying blocked");
            Assert.That(Check(Attacker, "victim@family.example").Limit, Is.EqualTo("network"));
            Assert.That(Check(Neighbour, "anna@family.example").Blocked, Is.False, "the legitimate user behind the same NAT");
            Assert.That(Check(Elsewhere, "victim@family.example").Blocked, Is.False);
        });
    }

    [Test]
    public void DistributedGuessingBlocksTheAddressExceptWhereItsOwnerLogsInFrom()
    {
        Succeed(Elsewhere, "julie@family.example");
        for (var i = 0; i < 20; i++)
        {
            Fail(IPAddress.Parse($"198.51.100.{i + 1}"), "julie@family.example", 1);
        }
        Assert.That(Check(IPAddress.Parse("198.51.100.200"), "julie@family.example").Blocked, Is.True);
        Assert.That(Check(Elsewhere, "julie@family.example").Blocked, Is.False, "the owner's usual network still gets through");
    }

    [Test]
    public void AnIpv6Slash64CountsAsOneNetwork()
    {
        for (var i = 0; i < 5; i++)
        {
            var host = IPAddress.Parse($"2001:db8:1:2::{i + 1:x}");
            Guess(_throttle, host, "julie@family.example").Failed($"guess-{i}");
        }
        Assert.That(Check(IPAddress.Parse("2001:db8:1:2:ffff::1"), "julie@family.example").Blocked, Is.True);
        Assert.That(Check(IPAddress.Parse("2001:db8:1:3::1"), "julie@family.example").Blocked, Is.False);
    }

    [Test]
    public void ConcurrentAttemptsCannotAllSlipUnderTheLimit()
    {
        // Twenty attempts admitted at once, before any of them has failed: only the limit's worth get through.
        var admitted = Enumerable.Range(0, 20).Count(i => !Check(Attacker, $"user{i}@family.example").Blocked);
        Assert.That(admitted, Is.LessThanOrEqualTo(30));
        var burst = Enumerable.Range(0, 40).Count(i => !Check(Attacker, $"other{i}@family.example").Blocked);
        Assert.That(admitted + burst, Is.EqualTo(30));
    }

    [Test]
    public void ParallelAttemptsOnOnePairAreHeldToItsLimitUntilItHasLoggedIn()
    {
        var inFlight = Enumerable.Range(0, 8).Select(_ => Guess(_throttle, Attacker, "julie@family.example")).ToList();
        Assert.That(inFlight.Count(t => !t.Blocked), Is.EqualTo(5), "unknown to the address: in-flight attempts count as failures");

        inFlight.First(t => !t.Blocked).Succeeded();
        // A mail client that logged in opens eight connections at once (Thunderbird, Apple Mail do five or more).
        var afterSuccess = Enumerable.Range(0, 8).Count(_ => !Check(Attacker, "julie@family.example").Blocked);
        Assert.That(afterSuccess, Is.EqualTo(8));
    }

    [Test]
    public void APairThatLoggedInIsStillBlockedByItsFailures()
    {
        Succeed(Attacker, "julie@family.example");

        Fail(Attacker, "julie@family.example", 5);

        Assert.That(Check(Attacker, "julie@family.example").Blocked, Is.True);
    }

    [Test]
    public void SuccessAndAbandonedAttemptsAreRefunded()
    {
        for (var i = 0; i < 100; i++)
        {
            var ticket = Guess(_throttle, Attacker, "julie@family.example");
            if (i % 2 == 0)
            {
                ticket.Succeeded();
            }
            else
            {
                ticket.Dispose(); // abandoned: the hashing pool was full, say
            }
        }
        Assert.That(_throttle.Snapshot(), Has.None.Property(nameof(ThrottleEntry.Blocked)).True);
    }

    [Test]
    public void TrustedNetworksAreNeverThrottled()
    {
        var trusted = IPAddress.Parse("192.0.2.10");
        Fail(trusted, "julie@family.example", 100);
        Assert.That(Check(trusted, "julie@family.example").Blocked, Is.False);
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
        Assert.That(Check(Attacker, "julie@family.example").Blocked, Is.False);
        Fail(Attacker, "julie@family.example", 5);
        Assert.That(_throttle.Clear("Julie@family.example"), Is.EqualTo(2));
        Assert.That(Check(Attacker, "julie@family.example").Blocked, Is.False);
    }

    [Test]
    public void MemoryStaysBounded()
    {
        var small = new FailureThrottle(new ThrottleOptions { MaxTrackedEntries = 1000 }, [], _clock);
        for (var i = 0; i < 20_000; i++)
        {
            var host = IPAddress.Parse($"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}");
            Guess(small, host, $"u{i}@family.example").Failed("x");
        }
        Assert.That(small.Snapshot(), Has.Count.LessThanOrEqualTo(1000));
    }

    [Test]
    public void SuccessesNeverPushFailureCountersOut()
    {
        // The audit's case: with room for 2,000 entries, 2,100 good logins from 2,100 networks used
        // to fill the table with successes, and every clean-up then dropped all failure counters.
        var small = new FailureThrottle(new ThrottleOptions { MaxTrackedEntries = 2000, PairFailures = 5 }, [], _clock);
        for (var i = 0; i < 2100; i++)
        {
            Guess(small, IPAddress.Parse($"10.1.{i / 256}.{i % 256}"), "anna@family.example").Succeeded();
        }
        var verified = 0;
        for (var i = 0; i < 40; i++)
        {
            var ticket = Guess(small, Attacker, "julie@family.example");
            if (!ticket.Blocked)
            {
                verified++;
                ticket.Failed($"guess-{i}");
            }
        }
        Assert.That(verified, Is.EqualTo(5));
        Assert.That(small.TrackedSuccesses, Is.LessThanOrEqualTo(2000), "successes are bounded on their own");
    }

    [Test]
    public void ManySuccessesStayBoundedAndKeepTheNewest()
    {
        var small = new FailureThrottle(new ThrottleOptions { MaxTrackedEntries = 1000 }, [], _clock);
        for (var i = 0; i < 20_000; i++)
        {
            _clock.Now += TimeSpan.FromMilliseconds(1);
            Guess(small, IPAddress.Parse($"10.2.{i / 256 % 256}.{i % 256}"), $"u{i}@family.example").Succeeded();
        }
        Assert.That(small.TrackedSuccesses, Is.InRange(500, 1000));
        Assert.That(small.TrackedFailureEntries, Is.LessThanOrEqualTo(1000));
        // The newest success is still known: its network is exempt from the address limit.
        for (var i = 0; i < 25; i++)
        {
            var guess = Guess(small, IPAddress.Parse($"198.51.100.{i + 1}"), "u19999@family.example");
            if (!guess.Blocked)
            {
                guess.Failed($"guess-{i}");
            }
        }
        Assert.That(Guess(small, IPAddress.Parse("198.51.100.200"), "u19999@family.example").Blocked, Is.True, "the address limit is reached");
        Assert.That(Guess(small, IPAddress.Parse("10.2.78.31"), "u19999@family.example").Blocked, Is.False, "the owner's network is remembered");
    }

    private void Fail(IPAddress from, string address, int times)
    {
        for (var i = 0; i < times; i++)
        {
            var ticket = Guess(_throttle, from, address);
            if (!ticket.Blocked)
            {
                ticket.Failed($"guess-{Guid.NewGuid()}");
            }
        }
    }

    /// <summary>A successful login of <paramref name="address"/> from <paramref name="from"/>, verified.</summary>
    private void Succeed(IPAddress from, string address) => Guess(_throttle, from, address).Succeeded();

    /// <summary>
    /// An attempt admitted and started as a verification of its own, left in flight (not disposed)
    /// until the caller settles it, as a login waiting for Argon2 is.
    /// </summary>
    private static ThrottleTicket Guess(FailureThrottle throttle, IPAddress from, string address)
    {
        var ticket = throttle.Admit(from, address);
        if (!ticket.Blocked)
        {
            ticket.TryStartVerification();
        }
        return ticket;
    }

    /// <summary>Whether an attempt is refused (it stays in flight when admitted, as in the old Check).</summary>
    private ThrottleDecision Check(IPAddress from, string address) => Guess(_throttle, from, address).Decision;
}
