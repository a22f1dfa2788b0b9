using MailAuth.Core.Addresses;
using MailAuth.Core.Authentication;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Tests.Accounts;

namespace MailAuth.Core.Tests.Authentication;

[TestFixture]
public sealed class VerifiedLoginCacheTests
{
    private static readonly MailboxCredential Julie = new(EmailAddress.Parse("julie@family.example"), "{ARGON2ID}$argon2id$x", false, 3);

    [Test]
    public void RemembersOnlyTheVerifiedPasswordForTheVerifiedCredential()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var cache = new VerifiedLoginCache(TimeSpan.FromSeconds(60), clock);
        cache.Remember(Julie, "123-Abc");
        Assert.Multiple(() =>
        {
            Assert.That(cache.Matches(Julie, "123-Abc"), Is.True);
            Assert.That(cache.Matches(Julie, "123-abc"), Is.False);
            Assert.That(cache.Matches(Julie with { Address = EmailAddress.Parse("anna@family.example") }, "123-Abc"), Is.False);
            Assert.That(cache.Matches(Julie with { CredentialVersion = 4 }, "123-Abc"), Is.False, "a password change, disable or enable bumps the version");
        });
        Assert.That(cache.Matches(Julie, "123-Abc"), Is.False, "a stale entry is dropped, not revived");
    }

    [Test]
    public void EntriesExpire()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var cache = new VerifiedLoginCache(TimeSpan.FromSeconds(60), clock);
        cache.Remember(Julie, "123-Abc");
        clock.Now += TimeSpan.FromSeconds(61);
        Assert.That(cache.Matches(Julie, "123-Abc"), Is.False);
    }

    [Test]
    public void ZeroLifetimeIsOff()
    {
        var cache = new VerifiedLoginCache(TimeSpan.Zero, TimeProvider.System);
        cache.Remember(Julie, "123-Abc");
        Assert.That(cache.IsEnabled, Is.False);
        Assert.That(cache.Matches(Julie, "123-Abc"), Is.False);
        Assert.That(cache.Count, Is.Zero);
    }

    [Test]
    public void StaysBounded()
    {
        var cache = new VerifiedLoginCache(TimeSpan.FromMinutes(5), TimeProvider.System, maxEntries: 100);
        for (var i = 0; i < 1000; i++)
        {
            cache.Remember(Julie with { Address = EmailAddress.Parse($"u{i}@family.example") }, "pw");
        }
        Assert.That(cache.Count, Is.LessThanOrEqualTo(100));
    }
}
