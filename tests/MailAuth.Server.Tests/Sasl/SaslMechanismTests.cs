using System.Text;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Tests.Sasl;

[TestFixture]
public sealed class SaslMechanismTests
{
    [Test]
    public void PlainWithInitialResponse()
    {
        var step = SaslMechanism.Create("plain")!.Step(Bytes("\0julie@family.example\0123-Abc"));
        Assert.That(step.Kind, Is.EqualTo(SaslStepKind.Done));
        Assert.That(step.Credentials, Is.EqualTo(new SaslCredentials("julie@family.example", "123-Abc")));
    }

    [Test]
    public void PlainWithoutInitialResponseAsksWithAnEmptyChallenge()
    {
        var plain = SaslMechanism.Create("PLAIN")!;
        var first = plain.Step(null);
        Assert.That(first.Kind, Is.EqualTo(SaslStepKind.Challenge));
        Assert.That(first.Challenge, Is.Empty);
        Assert.That(plain.Step(Bytes("julie@family.example\0julie@family.example\0pässwörd")).Credentials,
            Is.EqualTo(new SaslCredentials("julie@family.example", "pässwörd")));
    }

    [TestCase("julie\0pw", "the PLAIN response must be authzid NUL authcid NUL password")]
    [TestCase("\0\0pw", "the PLAIN response has an empty username")]
    [TestCase("a\0b\0c\0d", "the PLAIN response must be authzid NUL authcid NUL password")]
    [TestCase("admin@family.example\0julie@family.example\0pw", "acting as another user (a different authorization identity) is not supported")]
    public void PlainRefusesMalformedResponses(string response, string error)
    {
        var step = SaslMechanism.Create("PLAIN")!.Step(Bytes(response));
        Assert.That(step.Kind, Is.EqualTo(SaslStepKind.Malformed));
        Assert.That(step.Error, Is.EqualTo(error));
    }

    [Test]
    public void PlainAcceptsTheSameIdentitySpelledTwoWays()
    {
        var step = SaslMechanism.Create("PLAIN")!.Step(Bytes("anna@bücher.example\0Anna@xn--bcher-kva.example\0pw"));
        Assert.That(step.Credentials, Is.EqualTo(new SaslCredentials("Anna@xn--bcher-kva.example", "pw")));
    }

    [Test]
    public void PlainRefusesInvalidUtf8()
    {
        var step = SaslMechanism.Create("PLAIN")!.Step([0, (byte)'a', 0, 0xC3, 0x28]);
        Assert.That(step.Error, Is.EqualTo("the PLAIN response is not UTF-8"));
    }

    [Test]
    public void LoginPromptsAsOutlookExpects()
    {
        var login = SaslMechanism.Create("LOGIN")!;
        var username = login.Step(null);
        Assert.That(Encoding.ASCII.GetString(username.Challenge), Is.EqualTo("Username:"));
        var password = login.Step(Bytes("julie@family.example"));
        Assert.That(Encoding.ASCII.GetString(password.Challenge), Is.EqualTo("Password:"));
        Assert.That(login.Step(Bytes("123-Abc")).Credentials, Is.EqualTo(new SaslCredentials("julie@family.example", "123-Abc")));
    }

    [Test]
    public void LoginWithTheUsernameAsInitialResponseAsksOnlyForThePassword()
    {
        var login = SaslMechanism.Create("LOGIN")!;
        Assert.That(Encoding.ASCII.GetString(login.Step(Bytes("julie@family.example")).Challenge), Is.EqualTo("Password:"));
        Assert.That(login.Step(Bytes("")).Credentials, Is.EqualTo(new SaslCredentials("julie@family.example", "")));
    }

    [Test]
    public void LoginRefusesAnEmptyUsername()
    {
        Assert.That(SaslMechanism.Create("LOGIN")!.Step([]).Kind, Is.EqualTo(SaslStepKind.Malformed));
    }

    [TestCase("CRAM-MD5")]
    [TestCase("XOAUTH2")]
    [TestCase("")]
    public void UnknownMechanismsAreNotCreated(string name)
    {
        Assert.That(SaslMechanism.Create(name), Is.Null);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
