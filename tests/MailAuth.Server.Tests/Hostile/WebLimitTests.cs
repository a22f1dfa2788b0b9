using MailAuth.Server.Tests.Web;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>The web listener's limits against clients that send too much or too slowly (timeouts set to 1 s here).</summary>
[TestFixture]
public sealed class WebLimitTests
{
    private WebServer _web = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _web = await WebServer.StartAsync(new Dictionary<string, string>
    {
        ["MailAuth__Web__RequestHeadersTimeoutSeconds"] = "1",
        ["MailAuth__Web__TlsHandshakeTimeoutSeconds"] = "1",
        ["MailAuth__Web__MaxRequestHeaderBytes"] = "4096",
        // Only the rate-limit test makes complete requests here: 431 and 408 are answered before the limiter.
        ["MailAuth__Web__MaxRequestsPerMinutePerAddress"] = "3",
    });

    [OneTimeTearDown]
    public async Task StopAsync() => await _web.DisposeAsync();

    [Test]
    public async Task HeadersOverTheLimitAreRefusedWith431()
    {
        await using var connection = await LineConnection.OpenAsync(_web.HttpPort);
        await connection.SendAsync("GET /mail/config-v1.1.xml HTTP/1.1\r\nHost: autoconfig.example.org\r\nX-Padding: " + new string('a', 5000) + "\r\n\r\n");
        Assert.That(await connection.ReadLineAsync(TimeSpan.FromSeconds(5)), Is.EqualTo("HTTP/1.1 431 Request Header Fields Too Large"));
    }

    [Test]
    public async Task HeadersThatNeverEndAreCutOffByTheTimeout()
    {
        await using var connection = await LineConnection.OpenAsync(_web.HttpPort);
        await connection.SendAsync("GET /mail/config-v1.1.xml HTTP/1.1\r\nHost: autoconfig.example.org\r\n");
        // Kestrel answers 408 and closes; its heartbeat checks each second.
        Assert.That(await connection.ReadLineAsync(TimeSpan.FromSeconds(5)), Is.EqualTo("HTTP/1.1 408 Request Timeout"));
        Assert.That(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public async Task ASilentConnectionToTheHttpsPortIsClosedAfterTheHandshakeTimeout()
    {
        await using var connection = await LineConnection.OpenAsync(_web.HttpsPort);
        Assert.That(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public async Task RequestsBeyondTheLimitOfOneNetworkGet429WithRetryAfter()
    {
        using var http = WebServer.Client();
        var statuses = new List<System.Net.HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            last?.Dispose();
            last = await http.GetAsync(_web.Https("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%40example.org"));
            statuses.Add(last.StatusCode);
        }
        Assert.That(statuses, Is.EqualTo(new[]
        {
            System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.TooManyRequests,
        }));
        Assert.That(last!.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(60)));
        last.Dispose();
    }
}
