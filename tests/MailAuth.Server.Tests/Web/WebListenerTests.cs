using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 19 and the web listener: the set-up answers of a real <c>mailauth serve</c> over HTTPS and
/// plain HTTP, read as the clients read them.
/// </summary>
[TestFixture]
public sealed class WebListenerTests
{
    /// <summary>The body Outlook (2016 and later, classic) posts, as captured.</summary>
    internal const string OutlookRequest = """
        <?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>{0}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>
        """;

    private static readonly XNamespace Response2006 = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
    private static readonly XNamespace Outlook2006a = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

    private WebServer _web = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _web = await WebServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Metrics__Enabled"] = "true" });
        _http = WebServer.Client();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http.Dispose();
        await _web.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(HttpRequestMessage request)
    {
        var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(Uri uri, string? host = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (host is not null)
        {
            request.Headers.Host = host;
        }
        return SendAsync(request);
    }

    [Test]
    public async Task AutoconfigGivesThunderbirdEveryConfiguredListenerAndTheSameDocumentForAnyAddressOfTheDomain()
    {
        var (status, body, response) = await GetAsync(_web.Https("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.org"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/xml"));
        var provider = XDocument.Parse(body).Root!;
        Assert.That((provider.Name.LocalName, provider.Attribute("version")!.Value), Is.EqualTo(("clientConfig", "1.1")));
        var emailProvider = provider.Element("emailProvider")!;
        Assert.That(emailProvider.Attribute("id")!.Value, Is.EqualTo("example.org"));
        Assert.That(emailProvider.Element("domain")!.Value, Is.EqualTo("example.org"));
        static string Describe(XElement server) => string.Join(" ", server.Attribute("type")!.Value, server.Element("hostname")!.Value,
            server.Element("port")!.Value, server.Element("socketType")!.Value, server.Element("username")!.Value, server.Element("authentication")!.Value);
        var server = _web.Server;
        Assert.That(emailProvider.Elements("incomingServer").Select(Describe), Is.EqualTo(new[]
        {
            $"imap {WebServer.HostName} {server.ImapsPort} SSL %EMAILADDRESS% password-cleartext",
            $"imap {WebServer.HostName} {server.ImapPort} STARTTLS %EMAILADDRESS% password-cleartext",
        }));
        Assert.That(emailProvider.Elements("outgoingServer").Select(Describe), Is.EqualTo(new[]
        {
            $"smtp {WebServer.HostName} {server.SubmissionsPort} SSL %EMAILADDRESS% password-cleartext",
            $"smtp {WebServer.HostName} {server.SubmissionPort} STARTTLS %EMAILADDRESS% password-cleartext",
        }));
        var other = await GetAsync(_web.Https("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=nobody%40example.org"));
        Assert.That(other.Body, Is.EqualTo(body), "no mailbox is looked up");
    }

    [Test]
    public async Task ThunderbirdsPlainHttpTryOnTheAutoconfigHostIsAnswered()
    {
        var secure = await GetAsync(_web.Https("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.org"));
        // Thunderbird's query, with and without the address it adds.
        var withAddress = await GetAsync(_web.Http("/mail/config-v1.1.xml?emailaddress=alice%40example.org"), "autoconfig.example.org");
        var withoutAddress = await GetAsync(_web.Http("/mail/config-v1.1.xml"), "autoconfig.example.org");
        Assert.That((withAddress.Status, withAddress.Body), Is.EqualTo((HttpStatusCode.OK, secure.Body)));
        Assert.That((withoutAddress.Status, withoutAddress.Body), Is.EqualTo((HttpStatusCode.OK, secure.Body)));
        Assert.That(withAddress.Response.Headers.Contains("Strict-Transport-Security"), Is.False, "HSTS only over HTTPS");
        Assert.That(secure.Response.Headers.GetValues("Strict-Transport-Security").Single(), Is.EqualTo("max-age=31536000"));
    }

    [Test]
    public async Task AnUnhostedDomainAnUnknownDomainAndAMalformedAddressGetOneAnswer()
    {
        var answers = new[]
        {
            await GetAsync(_web.Https("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40other.example")),
            await GetAsync(_web.Https("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=not-an-address")),
            await GetAsync(_web.Http("/mail/config-v1.1.xml"), "autoconfig.other.example"),
            await SendAsync(Autodiscover("/autodiscover/autodiscover.xml", string.Format(OutlookRequest, "alice@other.example"))),
        };
        Assert.That(answers.Select(a => (a.Status, a.Body)), Is.All.EqualTo((HttpStatusCode.NotFound, "not found\n")));
    }

    [Test]
    public async Task PlainHttpRedirectsEverythingElseToTheSameUrlOnHttps()
    {
        var get = await GetAsync(_web.Http("/apple/mailbox.mobileconfig?include-password=true"), "mail.example.org");
        Assert.That(get.Status, Is.EqualTo(HttpStatusCode.PermanentRedirect));
        Assert.That(get.Response.Headers.Location, Is.EqualTo(new Uri($"https://mail.example.org:{_web.HttpsPort}/apple/mailbox.mobileconfig?include-password=true")));
        using var post = new HttpRequestMessage(HttpMethod.Post, _web.Http("/api/v1/mailbox/test"))
        {
            Content = new StringContent("""{"address":"a@example.org","password":"x"}""", Encoding.UTF8, "application/json"),
        };
        var posted = await SendAsync(post);
        Assert.That(posted.Status, Is.EqualTo(HttpStatusCode.PermanentRedirect), "308 keeps the method; a password is never checked over plain HTTP");
        Assert.That(_web.Server.Log, Does.Not.Contain("tls=no"), "answered before any verification");
        Assert.That((await GetAsync(_web.Http("/metrics"), "mail.example.org")).Status, Is.EqualTo(HttpStatusCode.PermanentRedirect));
    }

    private HttpRequestMessage Autodiscover(string path, string body) =>
        new(HttpMethod.Post, _web.Https(path)) { Content = new StringContent(body, Encoding.UTF8, "text/xml") };

    [TestCase("/autodiscover/autodiscover.xml")]
    [TestCase("/Autodiscover/Autodiscover.xml")]
    [TestCase("/AutoDiscover/AutoDiscover.xml")]
    public async Task AutodiscoverAnswersOutlooksRequestWithTheOutlookSchema(string path)
    {
        var (status, body, _) = await SendAsync(Autodiscover(path, string.Format(OutlookRequest, "Alice@Example.org")));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        var root = XDocument.Parse(body).Root!;
        Assert.That(root.Name, Is.EqualTo(Response2006 + "Autodiscover"));
        var account = root.Element(Outlook2006a + "Response")!.Element(Outlook2006a + "Account")!;
        Assert.That(account.Element(Outlook2006a + "AccountType")!.Value, Is.EqualTo("email"));
        Assert.That(account.Element(Outlook2006a + "Action")!.Value, Is.EqualTo("settings"));
        static string Describe(XElement protocol) => string.Join(" ",
            new[] { "Type", "Server", "Port", "LoginName", "SPA", "SSL", "AuthRequired" }.Select(name => protocol.Element(Outlook2006a + name)!.Value));
        Assert.That(account.Elements(Outlook2006a + "Protocol").Select(Describe), Is.EqualTo(new[]
        {
            $"IMAP {WebServer.HostName} {_web.Server.ImapsPort} alice@example.org off on on",
            $"SMTP {WebServer.HostName} {_web.Server.SubmissionsPort} alice@example.org off on on",
        }));
        Assert.That(account.Descendants(Outlook2006a + "Encryption"), Is.Empty, "implicit TLS is SSL on alone");
    }

    [Test]
    public async Task AutodiscoverRefusesWhatItCannotAnswerAsExchangeDoes()
    {
        static (string, string) Error(string body)
        {
            var error = XDocument.Parse(body).Root!.Element(Response2006 + "Response")!.Element(Response2006 + "Error")!;
            Assert.That(error.Attribute("Time"), Is.Not.Null);
            Assert.That(error.Attribute("Id"), Is.Not.Null);
            return (error.Element(Response2006 + "ErrorCode")!.Value, error.Element(Response2006 + "Message")!.Value);
        }
        var get = await GetAsync(_web.Https("/autodiscover/autodiscover.xml"));
        Assert.That((get.Status, Error(get.Body)), Is.EqualTo((HttpStatusCode.OK, ("600", "Invalid Request"))));
        var mobile = await SendAsync(Autodiscover("/autodiscover/autodiscover.xml", string.Format(OutlookRequest, "alice@example.org")
            .Replace("outlook/responseschema/2006a", "mobilesync/responseschema/2006", StringComparison.Ordinal)));
        Assert.That(Error(mobile.Body), Is.EqualTo(("601", "Provider is not available for the requested schema")));
        var notXml = await SendAsync(Autodiscover("/autodiscover/autodiscover.xml", "<Autodiscover"));
        Assert.That(Error(notXml.Body).Item1, Is.EqualTo("600"));
        // An external entity (XXE) is never resolved: a DTD is refused outright.
        var entity = await SendAsync(Autodiscover("/autodiscover/autodiscover.xml",
            "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
            string.Format(OutlookRequest, "&x;").Split("?>", 2)[1]));
        Assert.That(Error(entity.Body).Item1, Is.EqualTo("600"));
    }

    [Test]
    public async Task ABodyOverTheLimitIsRefusedBeforeItIsRead()
    {
        var (status, _, _) = await SendAsync(Autodiscover("/autodiscover/autodiscover.xml", new string(' ', 17 * 1024)));
        Assert.That(status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    private Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> TestPairAsync(string json, string contentType = "application/json") =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, _web.Https("/api/v1/mailbox/test"))
        {
            Content = new StringContent(json, Encoding.UTF8, contentType),
        });

    [Test]
    public async Task TestingAPairGoesThroughTheMailLoginAndSaysWhichSettingsToUse()
    {
        var (status, body, _) = await TestPairAsync($$"""{"address":"ALICE@example.org","password":"{{WebServer.Password}}"}""");
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.That(json.RootElement.GetProperty("result").GetString(), Is.EqualTo("ok"));
        Assert.That(json.RootElement.GetProperty("address").GetString(), Is.EqualTo("alice@example.org"));
        var first = json.RootElement.GetProperty("incoming")[0];
        Assert.That((first.GetProperty("host").GetString(), first.GetProperty("port").GetInt32(), first.GetProperty("security").GetString()),
            Is.EqualTo((WebServer.HostName, _web.Server.ImapsPort, "tls")));
        Assert.That(await _web.Server.LoggedAsync("auth result=ok reason=verified protocol=web mechanism=JSON tls=yes"), Is.True);
    }

    [Test]
    public async Task AWrongPasswordAndAnUnknownAddressGetTheSameAnswer()
    {
        var wrong = await TestPairAsync("""{"address":"alice@example.org","password":"wrong one"}""");
        var unknown = await TestPairAsync("""{"address":"nobody@example.org","password":"wrong one"}""");
        var otherDomain = await TestPairAsync("""{"address":"alice@other.example","password":"wrong one"}""");
        Assert.That(new[] { wrong, unknown, otherDomain }.Select(a => (a.Status, a.Body)), Is.All.EqualTo(
            (HttpStatusCode.Unauthorized, """{"result":"failed","message":"the address or the password is wrong"}""")));
        Assert.That(await _web.Server.LoggedAsync("reason=unknown-address protocol=web"), Is.True, "the reason is for the log only");
    }

    [Test]
    public async Task OnlyJsonIsAccepted()
    {
        Assert.That((await TestPairAsync("address=alice%40example.org&password=x", "application/x-www-form-urlencoded")).Status,
            Is.EqualTo(HttpStatusCode.UnsupportedMediaType), "a cross-site form cannot post it");
        Assert.That((await TestPairAsync("""{"address":"alice@example.org"}""")).Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await TestPairAsync("""{"address":"alice@example.org","password":7}""")).Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await TestPairAsync("""{"address":""")).Status, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    private Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> ProfileAsync(string? user, string? password, string query = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, _web.Https("/apple/mailbox.mobileconfig" + query));
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));
        }
        return SendAsync(request);
    }

    [Test]
    public async Task TheAppleProfileIsOfferedOnlyAfterTheMailboxPasswordIsProven()
    {
        foreach (var (user, password) in new (string?, string?)[] { (null, null), ("alice@example.org", "wrong"), ("nobody@example.org", "wrong") })
        {
            var refused = await ProfileAsync(user, password);
            Assert.That(refused.Status, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(refused.Response.Headers.WwwAuthenticate.Single().ToString(), Is.EqualTo("Basic realm=\"Mailbox address and password\", charset=\"UTF-8\""));
        }
        var (status, body, response) = await ProfileAsync(WebServer.Address, WebServer.Password);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/x-apple-aspen-config"));
        Assert.That(body, Does.StartWith("<?xml"), "unsigned: no certificate is configured, the generated one verifies nothing");
        Assert.That(body, Does.Contain("<string>com.apple.mail.managed</string>").And.Not.Contain(WebServer.Password));
        var withPassword = await ProfileAsync(WebServer.Address, WebServer.Password, "?include-password=true");
        Assert.That(withPassword.Body, Does.Contain($"<key>IncomingPassword</key>").And.Contain($"<string>{WebServer.Password}</string>"));
    }

    [Test]
    public async Task MetricsPortZeroServesMonitoringOnTheWebListener()
    {
        await TestPairAsync($$"""{"address":"alice@example.org","password":"{{WebServer.Password}}"}""");
        var metrics = await GetAsync(_web.Https("/metrics"));
        Assert.That(metrics.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(metrics.Body, Does.Contain("mailauth_login_attempts_total{").And.Contain("protocol=\"web\""));
        Assert.That((await GetAsync(_web.Https("/healthz"))).Body, Is.EqualTo("ok\n"));
        Assert.That((await GetAsync(_web.Https("/readyz"))).Body, Is.EqualTo("ready\n"));
        Assert.That((await GetAsync(_web.Https("/nothing-here"))).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
