using MailAuth.Core.Addresses;
using MailAuth.Server.Sasl;
using MailAuth.Server.Smtp.Commands;

namespace MailAuth.Server.Tests.Smtp.Commands;

[TestFixture]
public sealed class AuthCommandTests
{
    private static readonly Dictionary<string, (SaslLoginOutcome Outcome, SmtpAuthReply Reply)> Table = new()
    {
        ["Succeeded"] = (new SaslLoginOutcome.Succeeded(EmailAddress.Parse("julie@family.example"), 7),
            new("235 2.7.0 Authentication successful", SmtpAuthEffect.None)),
        ["Busy"] = (new SaslLoginOutcome.Busy(),
            new("454 4.7.0 Temporary authentication failure", SmtpAuthEffect.None)),
        ["Failed"] = (new SaslLoginOutcome.Failed(),
            new("535 5.7.8 Authentication credentials invalid", SmtpAuthEffect.CountFailure)),
        ["Cancelled"] = (new SaslLoginOutcome.Cancelled(),
            new("501 5.7.0 Authentication cancelled", SmtpAuthEffect.None)),
        ["InitialResponseNotBase64"] = (new SaslLoginOutcome.Malformed(SaslMalformation.InitialResponseNotBase64),
            new("501 5.5.2 Invalid base64 data", SmtpAuthEffect.None)),
        ["ResponseNotBase64"] = (new SaslLoginOutcome.Malformed(SaslMalformation.ResponseNotBase64),
            new("501 5.5.2 Invalid base64 data", SmtpAuthEffect.None)),
        ["TooManyRounds"] = (new SaslLoginOutcome.Malformed(SaslMalformation.TooManyRounds),
            new("535 5.7.8 Authentication credentials invalid", SmtpAuthEffect.CountFailure)),
        ["RefusedByMechanism"] = (new SaslLoginOutcome.Malformed(SaslMalformation.RefusedByMechanism("the PLAIN response has an empty username")),
            new("535 5.7.8 Authentication credentials invalid", SmtpAuthEffect.CountFailure)),
        ["LineTooLong"] = (new SaslLoginOutcome.LineTooLong(),
            new("421 4.7.0 Authentication exchange line is too long, closing connection", SmtpAuthEffect.Close)),
        ["Disconnected"] = (new SaslLoginOutcome.Disconnected(), new(null, SmtpAuthEffect.Close)),
    };

    private static IEnumerable<string> Outcomes => Table.Keys;

    [TestCaseSource(nameof(Outcomes))]
    public void EachOutcomeHasItsReply(string outcome)
    {
        var (given, expected) = Table[outcome];
        Assert.That(AuthCommand.Reply(given), Is.EqualTo(expected));
    }
}
