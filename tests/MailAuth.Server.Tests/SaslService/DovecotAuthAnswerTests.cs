using MailAuth.Core.Addresses;
using MailAuth.Server.Sasl;
using MailAuth.Server.SaslService;

namespace MailAuth.Server.Tests.SaslService;

[TestFixture]
public sealed class DovecotAuthAnswerTests
{
    private static readonly Dictionary<string, (SaslLoginOutcome Outcome, DovecotAuthAnswer Answer)> Table = new()
    {
        ["Succeeded"] = (new SaslLoginOutcome.Succeeded(EmailAddress.Parse("julie@family.example"), 7),
            new DovecotAuthAnswer("OK\t3\tuser=julie@family.example\n", null)),
        ["Busy"] = (new SaslLoginOutcome.Busy(),
            new DovecotAuthAnswer("FAIL\t3\ttemp\n", null)),
        ["Failed"] = (new SaslLoginOutcome.Failed(),
            new DovecotAuthAnswer("FAIL\t3\treason=Authentication failed\n", null)),
        ["Cancelled"] = (new SaslLoginOutcome.Cancelled(),
            new DovecotAuthAnswer(null, "cancelled by the client")),
        ["InitialResponseNotBase64"] = (new SaslLoginOutcome.Malformed(SaslMalformation.InitialResponseNotBase64),
            new DovecotAuthAnswer(null, "invalid base64 in resp")),
        ["ResponseNotBase64"] = (new SaslLoginOutcome.Malformed(SaslMalformation.ResponseNotBase64),
            new DovecotAuthAnswer(null, "invalid base64 in CONT")),
        ["RefusedByMechanism"] = (new SaslLoginOutcome.Malformed(SaslMalformation.RefusedByMechanism("the PLAIN response has an empty username")),
            new DovecotAuthAnswer(null, "the PLAIN response has an empty username")),
    };

    private static IEnumerable<string> Outcomes => Table.Keys;

    [TestCaseSource(nameof(Outcomes))]
    public void EachOutcomeHasItsAnswer(string outcome)
    {
        var (given, expected) = Table[outcome];
        Assert.That(DovecotAuthSession.Answer(3, given), Is.EqualTo(expected));
    }
}
