using System.Net;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Tests.Protocol;

[TestFixture]
public sealed class ConnectionLimiterTests
{
    [TestCase("192.0.2.7", "192.0.2.7")]
    [TestCase("::ffff:192.0.2.7", "192.0.2.7")]
    [TestCase("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::")]
    [TestCase("2001:db8:1:2::1", "2001:db8:1:2::")]
    [TestCase("::1", "::1")]
    public void GroupsClientsByNetwork(string address, string network)
    {
        Assert.That(ConnectionLimiter.NetworkOf(IPAddress.Parse(address)), Is.EqualTo(IPAddress.Parse(network)));
    }

    [Test]
    public void LimitsPerNetworkAndReleases()
    {
        var limiter = new ConnectionLimiter(maxPerNetwork: 2, maxTotal: 10);
        var first = IPAddress.Parse("2001:db8::1");
        var sameNetwork = IPAddress.Parse("2001:db8::2");
        Assert.Multiple(() =>
        {
            Assert.That(limiter.TryAcquire(first, out _), Is.True);
            Assert.That(limiter.TryAcquire(sameNetwork, out _), Is.True);
            Assert.That(limiter.TryAcquire(first, out _), Is.False, "a third connection from the same /64");
            Assert.That(limiter.TryAcquire(IPAddress.Parse("192.0.2.1"), out _), Is.True, "another network is not affected");
            Assert.That(limiter.Total, Is.EqualTo(3));
        });
        limiter.Release(ConnectionLimiter.NetworkOf(first));
        Assert.That(limiter.TryAcquire(first, out _), Is.True);
    }

    [Test]
    public void LimitsTheTotal()
    {
        var limiter = new ConnectionLimiter(maxPerNetwork: 10, maxTotal: 2);
        Assert.That(limiter.TryAcquire(IPAddress.Parse("192.0.2.1"), out _), Is.True);
        Assert.That(limiter.TryAcquire(IPAddress.Parse("192.0.2.2"), out _), Is.True);
        Assert.That(limiter.TryAcquire(IPAddress.Parse("192.0.2.3"), out _), Is.False);
        Assert.That(limiter.Total, Is.EqualTo(2));
    }

    [Test]
    public async Task CountsStayExactUnderContention()
    {
        var limiter = new ConnectionLimiter(maxPerNetwork: 1000, maxTotal: 100_000);
        var address = IPAddress.Parse("192.0.2.9");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                if (limiter.TryAcquire(address, out var network))
                {
                    limiter.Release(network);
                }
            }
        })));
        Assert.That(limiter.Total, Is.Zero);
        for (var i = 0; i < 1000; i++)
        {
            Assert.That(limiter.TryAcquire(address, out _), Is.True);
        }
        Assert.That(limiter.TryAcquire(address, out _), Is.False);
    }
}
