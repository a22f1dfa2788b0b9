using System.Text;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Tests.Sasl;

[TestFixture]
public sealed class SaslLoginTests
{
    [TestCase("dXNlcg==", "user")]
    [TestCase("=", "")]
    public void AnInitialResponseInBase64IsDecoded(string line, string expected)
    {
        Assert.That(SaslLogin.TryDecodeInitialResponse(Encoding.ASCII.GetBytes(line), out var data, out var refusal), Is.True);
        Assert.That(Encoding.UTF8.GetString(data), Is.EqualTo(expected));
        Assert.That(refusal, Is.Null);
    }

    [Test]
    public void AStarAsTheInitialResponseCancels()
    {
        Assert.That(SaslLogin.TryDecodeInitialResponse("*"u8, out _, out var refusal), Is.False);
        Assert.That(refusal, Is.EqualTo(new SaslLoginOutcome.Cancelled()));
    }

    [TestCase("dXNlcg")]
    [TestCase("dXNl cg==")]
    [TestCase("!!!!")]
    public void AnInitialResponseNotInBase64IsMalformed(string line)
    {
        Assert.That(SaslLogin.TryDecodeInitialResponse(Encoding.ASCII.GetBytes(line), out _, out var refusal), Is.False);
        Assert.That(refusal, Is.EqualTo(new SaslLoginOutcome.Malformed(SaslMalformation.InitialResponseNotBase64)));
    }
}
