using System.Text;
using MailAuth.Core.Accounts;

namespace MailAuth.Core.Tests.Accounts;

[TestFixture]
public sealed class TotpTests
{
    // RFC 6238 appendix B, SHA-1 rows: secret "12345678901234567890", 8 digits.
    [TestCase(59L, "94287082")]
    [TestCase(1111111109L, "07081804")]
    [TestCase(1111111111L, "14050471")]
    [TestCase(1234567890L, "89005924")]
    [TestCase(2000000000L, "69279037")]
    [TestCase(20000000000L, "65353130")]
    public void MatchesTheRfc6238Vectors(long unixTime, string code)
    {
        var secret = Encoding.ASCII.GetBytes("12345678901234567890");
        var step = Totp.StepAt(DateTimeOffset.FromUnixTimeSeconds(unixTime));
        Assert.That(Totp.Code(secret, step, digits: 8), Is.EqualTo(code));
    }

    [Test]
    public void AcceptsOneStepOfDriftEitherSideAndNoMore()
    {
        var secret = Encoding.ASCII.GetBytes("12345678901234567890");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var step = Totp.StepAt(now);
        Assert.Multiple(() =>
        {
            Assert.That(Totp.MatchingStep(secret, Totp.Code(secret, step), now), Is.EqualTo(step));
            Assert.That(Totp.MatchingStep(secret, Totp.Code(secret, step - 1), now), Is.EqualTo(step - 1));
            Assert.That(Totp.MatchingStep(secret, Totp.Code(secret, step + 1), now), Is.EqualTo(step + 1));
            Assert.That(Totp.MatchingStep(secret, Totp.Code(secret, step - 2), now), Is.Null);
            Assert.That(Totp.MatchingStep(secret, Totp.Code(secret, step + 2), now), Is.Null);
        });
    }

    [TestCase("")]
    [TestCase("12345")]
    [TestCase("1234567")]
    [TestCase("12a456")]
    [TestCase("١٢٣٤٥٦")]
    public void RefusesMalformedCodes(string code)
    {
        Assert.That(Totp.MatchingStep(new byte[20], code, DateTimeOffset.UtcNow), Is.Null);
    }

    [Test]
    public void ProvisioningUriCarriesTheBase32Secret()
    {
        var uri = Totp.ProvisioningUri("MailAuth", "julie@family.example", Encoding.ASCII.GetBytes("12345678901234567890"));
        Assert.That(uri, Is.EqualTo(
            "otpauth://totp/MailAuth:julie%40family.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=MailAuth&algorithm=SHA1&digits=6&period=30"));
    }

    [TestCase("", "")]
    [TestCase("f", "MY")]
    [TestCase("fo", "MZXQ")]
    [TestCase("foo", "MZXW6")]
    [TestCase("foob", "MZXW6YQ")]
    [TestCase("fooba", "MZXW6YTB")]
    [TestCase("foobar", "MZXW6YTBOI")]
    public void Base32MatchesRfc4648WithoutPadding(string input, string expected)
    {
        Assert.That(Base32.Encode(Encoding.ASCII.GetBytes(input)), Is.EqualTo(expected));
    }
}
