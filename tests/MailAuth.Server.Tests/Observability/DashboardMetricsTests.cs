using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Smtp;

namespace MailAuth.Server.Tests.Observability;

/// <summary>
/// Issue 20: every metric that <c>config/grafana-dashboard.json</c> and
/// <c>config/prometheus-alerts.yml</c> query is exported by a real server once clients have used it
/// (a name that is not would show an empty panel, or an alert that can never fire).
/// </summary>
[TestFixture]
public sealed partial class DashboardMetricsTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Test]
    public async Task EveryMetricTheDashboardAndTheAlertsUseIsExported()
    {
        var (server, port) = await MetricsEndpointTests.StartAsync(new()
        {
            ["MailAuth__Authentication__Throttle__PairFailures"] = "1",
            ["MailAuth__Authentication__Throttle__MaxDelaySeconds"] = "0",
        });
        await using var _ = server;
        await using (var imap = await ImapTestClient.ConnectAsync(server))
        {
            Assert.That((await imap.CommandAsync("a1", $"LOGIN {SmtpTestServer.Anna} wrong-password"))[^1], Does.StartWith("a1 NO"));
            Assert.That((await imap.CommandAsync("a2", $"LOGIN {SmtpTestServer.Anna} wrong-password-2"))[^1], Does.StartWith("a2 NO"), "throttled");
        }
        await using (var imaps = await ImapTestClient.ConnectAsync(server, implicitTls: true))
        {
            Assert.That((await imaps.CommandAsync("b1", $"LOGIN {SmtpTestServer.Julie} {SmtpTestServer.JuliePassword}"))[^1], Does.StartWith("b1 OK"));
        }
        await using (var smtp = await SmtpTranscript.ConnectAsync(server, implicitTls: false))
        {
            Assert.That(await smtp.LoginAsync(SmtpTestServer.Julie, SmtpTestServer.JuliePassword), Does.StartWith("235"));
            Assert.That(await smtp.CommandAsync($"MAIL FROM:<{SmtpTestServer.Julie}>"), Does.StartWith("250"));
            Assert.That(await smtp.CommandAsync($"RCPT TO:<{SmtpTestServer.Anna}>"), Does.StartWith("250"));
            Assert.That(await smtp.CommandAsync("DATA"), Does.StartWith("354"));
            Assert.That(await smtp.CommandAsync("Subject: dashboard\r\n\r\nhello\r\n."), Does.StartWith("250"));
        }
        var scrape = await MetricsScrape.TakeAsync(Http, port);

        var used = DashboardExpressions().Concat(AlertExpressions())
            .SelectMany(expression => MetricName().Matches(expression).Select(match => match.Value)).Distinct().ToList();
        Assert.That(used, Has.Count.GreaterThanOrEqualTo(20));
        Assert.That(used.Where(name => !scrape.Has(name)), Is.Empty, scrape.Text);
    }

    [Test]
    public async Task TheCertificateExpiryIsTheServedCertificatesEnd()
    {
        var (server, port) = await MetricsEndpointTests.StartAsync();
        await using var _ = server;
        var scrape = await MetricsScrape.TakeAsync(Http, port);
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(SmtpTestServer.CertificateFile(server)));
        Assert.That(scrape.Value("mailauth_tls_certificate_expiry_timestamp_seconds"),
            Is.EqualTo(new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeSeconds()));
        Assert.That(scrape.Value("mailauth_store_errors_total", ("query", "credential")), Is.Zero);
        Assert.That(scrape.Has("mailauth_store_errors_total"), Is.True, "the series exist before the first error");
    }

    [Test]
    public void TheDashboardIsGrafanaJsonWithADatasourceChoice()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(AlertRulesTests.ConfigDirectory, "grafana-dashboard.json")));
        var root = dashboard.RootElement;
        Assert.That(root.GetProperty("uid").GetString(), Is.EqualTo("mailauth"));
        Assert.That(root.GetProperty("templating").GetProperty("list").EnumerateArray().Select(variable => variable.GetProperty("name").GetString()),
            Is.EqualTo(new[] { "datasource", "instance" }));
        var panels = root.GetProperty("panels").EnumerateArray().Where(panel => panel.GetProperty("type").GetString() != "row").ToList();
        Assert.That(panels.Select(panel => panel.GetProperty("id").GetInt32()), Is.Unique);
        Assert.That(panels.All(panel => panel.GetProperty("datasource").GetProperty("uid").GetString() == "${datasource}"), Is.True);
    }

    private static IEnumerable<string> DashboardExpressions()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(AlertRulesTests.ConfigDirectory, "grafana-dashboard.json")));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Where(panel => panel.TryGetProperty("targets", out _))
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray().Select(target => target.GetProperty("expr").GetString()!))
            .Append(dashboard.RootElement.GetProperty("templating").GetProperty("list")[1].GetProperty("definition").GetString()!)
            .ToList();
    }

    /// <summary>The rules file without its comments (they name metrics in prose too).</summary>
    private static IEnumerable<string> AlertExpressions() =>
        File.ReadLines(Path.Combine(AlertRulesTests.ConfigDirectory, "prometheus-alerts.yml"))
            .Where(line => !line.TrimStart().StartsWith('#') && !line.TrimStart().StartsWith("description:", StringComparison.Ordinal));

    [GeneratedRegex(@"\bmailauth_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
