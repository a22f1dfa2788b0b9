using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Tests.Protocol;

/// <summary><see cref="AllowedCallers"/> against this system's user database (Debian with postfix, www-data and nobody).</summary>
[TestFixture]
public sealed class AllowedCallersTests
{
    private const string Key = "MailAuth:SaslService:AllowedUsers";

    private static uint Uid(string name) => UnixUsers.UserIdOf(name) ?? throw new InvalidOperationException($"no user {name} here");

    [Test]
    public void UsersAreLookedUpByNameAndUid()
    {
        Assert.Multiple(() =>
        {
            Assert.That(UnixUsers.UserIdOf("root"), Is.Zero);
            Assert.That(UnixUsers.UserIdOf("nobody"), Is.EqualTo(65534));
            Assert.That(UnixUsers.UserIdOf("no-such-user-here"), Is.Null);
            Assert.That(UnixUsers.UserIdOf(""), Is.Null);
            Assert.That(UnixUsers.NameOf(0), Is.EqualTo("root"));
            Assert.That(UnixUsers.NameOf(4_000_000), Is.Null);
            Assert.That(UnixUsers.EffectiveUserId, Is.Zero, "the tests run as root");
        });
    }

    [Test]
    public void UnsetTheDefaultsThatExistAreAllowedWithRootAndTheServersUser()
    {
        var callers = AllowedCallers.Resolve(Key, null, ["postfix", "no-such-user-here"]);

        Assert.Multiple(() =>
        {
            Assert.That(callers.Allows(0), Is.True);
            Assert.That(callers.Allows(Uid("postfix")), Is.True);
            Assert.That(callers.Allows(OtherUser.NobodyId), Is.False);
            Assert.That(callers.ToString(), Is.EqualTo($"0 (root), {Uid("postfix")} (postfix)"));
        });
    }

    [Test]
    public void ConfiguredUsersReplaceTheDefaultsAndMayBeNumbers()
    {
        var callers = AllowedCallers.Resolve(Key, ["nobody", "4000000"], ["postfix"]);

        Assert.Multiple(() =>
        {
            Assert.That(callers.Allows(OtherUser.NobodyId), Is.True);
            Assert.That(callers.Allows(4_000_000), Is.True);
            Assert.That(callers.Allows(Uid("postfix")), Is.False);
            Assert.That(callers.Allows(0), Is.True, "root always may");
            Assert.That(callers.ToString(), Is.EqualTo("0 (root), 65534 (nobody), 4000000 (4000000)"));
        });
    }

    [Test]
    public void AnUnknownConfiguredUserIsAConfigurationErrorNamingTheKey()
    {
        const string Error = "MailAuth:SaslService:AllowedUsers: there is no user 'postfx' on this system (a user name or a numeric uid)";

        Assert.That(AllowedCallers.Validate(Key, ["postfix", "postfx"]), Is.EqualTo(new[] { Error }));
        Assert.That(() => AllowedCallers.Resolve(Key, ["postfx"], []), Throws.TypeOf<ConfigurationException>().With.Message.EqualTo(Error));
    }

    [Test]
    public void BothSectionsValidateTheirUsers()
    {
        var options = new MailAuthOptions();
        options.SaslService.AllowedUsers = ["no-such-mta"];
        options.AuthHttp.AllowedUsers = ["-1"];

        Assert.That(options.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:SaslService:AllowedUsers: there is no user 'no-such-mta' on this system (a user name or a numeric uid)",
            "MailAuth:AuthHttp:AllowedUsers: there is no user '-1' on this system (a user name or a numeric uid)",
        }));
    }
}
