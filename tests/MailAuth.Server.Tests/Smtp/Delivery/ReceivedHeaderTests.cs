using System.Net;
using MailAuth.Core.Addresses;
using MailAuth.Server.Smtp.Delivery;

namespace MailAuth.Server.Tests.Smtp.Delivery;

[TestFixture]
public sealed class ReceivedHeaderTests
{
    [Test]
    public void NamesClientUserAndTls()
    {
        var header = ReceivedHeader.Build(
            "laptop.example", IPAddress.Parse("192.0.2.7"), "mx.family.example", EmailAddress.Parse("julie@family.example"),
            "TLSv1.3 TLS_AES_256_GCM_SHA384", "0123456789ABCDEF", new DateTimeOffset(2026, 11, 2, 3, 4, 5, TimeSpan.FromHours(1)));
        Assert.That(header, Is.EqualTo(
            "Received: from laptop.example ([192.0.2.7])\r\n" +
            "\tby mx.family.example (MailAuth) with ESMTPSA (TLSv1.3 TLS_AES_256_GCM_SHA384)\r\n" +
            "\t(authenticated as julie@family.example)\r\n" +
            "\tid 0123456789ABCDEF; Mon, 2 Nov 2026 02:04:05 +0000\r\n"));
    }

    [Test]
    public void WithoutTlsSaysEsmtpaAndCleansTheClientName()
    {
        var header = ReceivedHeader.Build(
            "evil)\r\nX-Injected: yes", IPAddress.Loopback, "mx.family.example", EmailAddress.Parse("julie@family.example"),
            null, "0123456789ABCDEF", DateTimeOffset.UnixEpoch);
        Assert.That(header, Does.StartWith("Received: from evil???X-Injected:?yes ([127.0.0.1])\r\n\tby mx.family.example (MailAuth) with ESMTPA\r\n"));
    }
}
