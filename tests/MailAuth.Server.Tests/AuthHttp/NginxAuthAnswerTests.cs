using System.Net;
using MailAuth.Core.Addresses;
using MailAuth.Server.AuthHttp;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Tests.AuthHttp;

[TestFixture]
public sealed class NginxAuthAnswerTests
{
    private static readonly MailBackendEndpoint Backend = new(IPAddress.Loopback, 1143);

    [TestCase(false, null, null)]
    [TestCase(true, null, "535 5.7.8")]
    [TestCase(false, 3, null)]
    [TestCase(true, 3, "535 5.7.8")]
    public void AFailedLoginIsOneAnswer(bool smtp, int? waitSeconds, string? smtpErrorCode)
    {
        Assert.That(NginxAuthResponder.Answer(new SaslLoginOutcome.Failed(), Backend, smtp, waitSeconds),
            Is.EqualTo(new NginxAuthAnswer(200, "Invalid login or password", null, waitSeconds, smtpErrorCode)));
    }

    [TestCase(false, null, null)]
    [TestCase(true, 3, "454 4.7.0")]
    public void ABusyServerAsksForARetry(bool smtp, int? waitSeconds, string? smtpErrorCode)
    {
        Assert.That(NginxAuthResponder.Answer(new SaslLoginOutcome.Busy(), Backend, smtp, waitSeconds),
            Is.EqualTo(new NginxAuthAnswer(200, "Temporary server problem, try again later", null, waitSeconds, smtpErrorCode)));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ASuccessNamesTheBackend(bool smtp)
    {
        var outcome = new SaslLoginOutcome.Succeeded(EmailAddress.Parse("julie@family.example"), 7);
        Assert.That(NginxAuthResponder.Answer(outcome, Backend, smtp, 3), Is.EqualTo(new NginxAuthAnswer(200, "OK", Backend)));
    }
}
