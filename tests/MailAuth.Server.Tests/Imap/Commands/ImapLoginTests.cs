using MailAuth.Core.Addresses;
using MailAuth.Server.Imap.Commands;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Tests.Imap.Commands;

[TestFixture]
public sealed class ImapLoginTests
{
    private static readonly Dictionary<string, (SaslLoginOutcome Outcome, ImapLoginReply Reply)> Table = new()
    {
        ["Succeeded"] = (new SaslLoginOutcome.Succeeded(EmailAddress.Parse("julie@family.example"), 7),
            new("a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n", ImapLoginEffect.None)),
        ["Busy"] = (new SaslLoginOutcome.Busy(),
            new("a1 NO [UNAVAILABLE] The server is busy, try again shortly\r\n", ImapLoginEffect.None)),
        ["Failed"] = (new SaslLoginOutcome.Failed(),
            new("a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n", ImapLoginEffect.CountFailure)),
        ["Cancelled"] = (new SaslLoginOutcome.Cancelled(),
            new("a1 BAD Authentication cancelled\r\n", ImapLoginEffect.None)),
        ["InitialResponseNotBase64"] = (new SaslLoginOutcome.Malformed(SaslMalformation.InitialResponseNotBase64),
            new("a1 BAD Invalid base64 in the initial response\r\n", ImapLoginEffect.None)),
        ["ResponseNotBase64"] = (new SaslLoginOutcome.Malformed(SaslMalformation.ResponseNotBase64),
            new("a1 BAD invalid base64\r\n", ImapLoginEffect.None)),
        ["TooManyRounds"] = (new SaslLoginOutcome.Malformed(SaslMalformation.TooManyRounds),
            new("a1 BAD too many SASL rounds\r\n", ImapLoginEffect.None)),
        ["RefusedByMechanism"] = (new SaslLoginOutcome.Malformed(SaslMalformation.RefusedByMechanism("the PLAIN response has an empty username")),
            new("a1 BAD the PLAIN response has an empty username\r\n", ImapLoginEffect.None)),
        ["LineTooLong"] = (new SaslLoginOutcome.LineTooLong(), new(null, ImapLoginEffect.Close)),
        ["Disconnected"] = (new SaslLoginOutcome.Disconnected(), new(null, ImapLoginEffect.Close)),
    };

    private static IEnumerable<string> Outcomes => Table.Keys;

    [TestCaseSource(nameof(Outcomes))]
    public void EachOutcomeHasItsReply(string outcome)
    {
        var (given, expected) = Table[outcome];
        Assert.That(ImapLogin.Reply(given, "a1", () => "IMAP4rev1 IDLE"), Is.EqualTo(expected));
    }

    [Test]
    public void CapabilitiesAreReadOnlyAfterASuccessfulLogin()
    {
        var reads = 0;
        string Capabilities()
        {
            reads++;
            return "IMAP4rev1";
        }
        ImapLogin.Reply(new SaslLoginOutcome.Failed(), "a1", Capabilities);
        Assert.That(reads, Is.Zero);
        ImapLogin.Reply(new SaslLoginOutcome.Succeeded(EmailAddress.Parse("julie@family.example"), 7), "a1", Capabilities);
        Assert.That(reads, Is.EqualTo(1));
    }
}
