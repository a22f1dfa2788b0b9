using System.Net;

namespace MailAuth.Server.Tests.Web;

[TestFixture]
public sealed class WebRateLimitTests
{
    [Test]
    public async Task RequestsBeyondTheLimitOfOneNetworkGet429WithRetryAfter()
    {
        await using var web = await WebServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Web__MaxRequestsPerMinutePerAddress"] = "3" });
        using var http = WebServer.Client();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            last?.Dispose();
            last = await http.GetAsync(web.Https("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%40example.org"));
            statuses.Add(last.StatusCode);
        }
        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        Assert.That(last!.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(60)));
        last.Dispose();
    }
}
