using System.Globalization;

namespace MailAuth.Server.Tests.Web;

/// <summary>A real <c>mailauth serve</c> with the web listener on, a hosted domain and one mailbox.</summary>
internal sealed class WebServer : IAsyncDisposable
{
    public const string Address = "alice@example.org";
    public const string Password = "correct horse battery";
    public const string HostName = "mail.example.net";

    private WebServer(RunningServer server, int httpsPort, int httpPort)
    {
        Server = server;
        HttpsPort = httpsPort;
        HttpPort = httpPort;
    }

    public RunningServer Server { get; }

    public int HttpsPort { get; }

    public int HttpPort { get; }

    public Uri Https(string pathAndQuery) => new($"https://127.0.0.1:{HttpsPort}{pathAndQuery}");

    public Uri Http(string pathAndQuery) => new($"http://127.0.0.1:{HttpPort}{pathAndQuery}");

    /// <summary>Accepts the server's self-signed certificate; follows no redirect, so that tests see them.</summary>
    public static HttpClient Client() => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        AllowAutoRedirect = false,
    })
    { Timeout = TimeSpan.FromSeconds(20) };

    public static async Task<WebServer> StartAsync(IDictionary<string, string>? settings = null)
    {
        var httpsPort = RunningServer.FreePort();
        var httpPort = RunningServer.FreePort();
        var all = new Dictionary<string, string>
        {
            ["MailAuth__Web__Port"] = httpsPort.ToString(CultureInfo.InvariantCulture),
            ["MailAuth__Web__HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture),
            ["MailAuth__Web__BindAddress"] = "127.0.0.1",
            ["MailAuth__Smtp__HostName"] = HostName,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }
        var server = await RunningServer.StartWithMailboxAsync(all, Address, Password, "listening web http on");
        return new WebServer(server, httpsPort, httpPort);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
