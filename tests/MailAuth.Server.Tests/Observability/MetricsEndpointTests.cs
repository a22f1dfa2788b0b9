using System.Diagnostics;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Smtp;

namespace MailAuth.Server.Tests.Observability;

/// <summary>
/// Issue 20: <c>/metrics</c> on a real server, scraped before and after real IMAP and SMTP logins;
/// each counter moved by exactly what the clients did.
/// </summary>
[TestFixture]
public sealed class MetricsEndpointTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    internal static async Task<(RunningServer Server, int MetricsPort)> StartAsync(Dictionary<string, string>? settings = null)
    {
        var port = RunningServer.FreePort();
        var all = new Dictionary<string, string>
        {
            ["MailAuth__Metrics__Enabled"] = "true",
            ["MailAuth__Metrics__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }
        var server = await SmtpTestServer.StartAsync(all, withImap: true);
        Assert.That(await server.LoggedAsync($"listening metrics on 127.0.0.1:{port} (/metrics, /healthz, /readyz)"), Is.True, server.Log);
        return (server, port);
    }

    [Test]
    public async Task CountersMoveByExactlyTheLoginsAndMessagesOfRealClients()
    {
        var (server, port) = await StartAsync();
        await using var _ = server;
        var before = await MetricsScrape.TakeAsync(Http, port);

        await using (var imap = await ImapTestClient.ConnectAsync(server))
        {
            Assert.That((await imap.CommandAsync("a1", $"LOGIN {SmtpTestServer.Julie} wrong-password-1"))[^1], Does.StartWith("a1 NO"));
            Assert.That((await imap.CommandAsync("a2", $"LOGIN {SmtpTestServer.Julie} {SmtpTestServer.JuliePassword}"))[^1], Does.StartWith("a2 OK"));
            await imap.CommandAsync("a3", "LOGOUT");
        }
        await using (var imaps = await ImapTestClient.ConnectAsync(server, implicitTls: true))
        {
            Assert.That((await imaps.CommandAsync("b1", $"LOGIN {SmtpTestServer.Julie} {SmtpTestServer.JuliePassword}"))[^1], Does.StartWith("b1 OK"));
            await imaps.CommandAsync("b2", "LOGOUT");
        }
        await using (var smtp = await SmtpTranscript.ConnectAsync(server, implicitTls: false))
        {
            Assert.That(await smtp.LoginAsync(SmtpTestServer.Anna, "wrong-password-2"), Does.StartWith("535"));
            Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Anna + "\0" + SmtpTestServer.AnnaPassword)), Does.StartWith("235"));
            Assert.That(await smtp.CommandAsync($"MAIL FROM:<{SmtpTestServer.Anna}>"), Does.StartWith("250"));
            Assert.That(await smtp.CommandAsync($"RCPT TO:<{SmtpTestServer.Julie}>"), Does.StartWith("250"));
            Assert.That(await smtp.CommandAsync("DATA"), Does.StartWith("354"));
            Assert.That(await smtp.CommandAsync("Subject: metrics-token\r\n\r\nhello\r\n."), Does.StartWith("250"));
            await smtp.CommandAsync("QUIT");
        }

        var after = await MetricsScrape.TakeAsync(Http, port);
        double Moved(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);

        var logins = "mailauth_login_attempts_total";
        Assert.Multiple(() =>
        {
            Assert.That(Moved(logins, ("protocol", "imap"), ("mechanism", "login-command"), ("result", "failed"), ("reason", "wrong-password")), Is.EqualTo(1));
            Assert.That(Moved(logins, ("protocol", "imap"), ("mechanism", "login-command"), ("result", "ok"), ("reason", "verified")), Is.EqualTo(1));
            Assert.That(Moved(logins, ("protocol", "imap"), ("mechanism", "login-command"), ("result", "ok"), ("reason", "cached")), Is.EqualTo(1));
            Assert.That(Moved(logins, ("protocol", "smtp"), ("mechanism", "plain"), ("result", "failed"), ("reason", "wrong-password")), Is.EqualTo(1));
            Assert.That(Moved(logins, ("protocol", "smtp"), ("mechanism", "plain"), ("result", "ok"), ("reason", "verified")), Is.EqualTo(1));
            Assert.That(Moved(logins), Is.EqualTo(5), "no other login was counted");

            Assert.That(Moved("mailauth_login_duration_seconds_count", ("protocol", "imap"), ("verification", "cold")), Is.EqualTo(2));
            Assert.That(Moved("mailauth_login_duration_seconds_count", ("protocol", "imap"), ("verification", "cached")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_login_duration_seconds_count", ("protocol", "smtp"), ("verification", "cold")), Is.EqualTo(2));
            Assert.That(Moved("mailauth_login_duration_seconds_bucket", ("protocol", "imap"), ("verification", "cached"), ("le", "+Inf")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_login_cache_lookups_total", ("result", "hit")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_login_cache_lookups_total", ("result", "miss")), Is.EqualTo(4));
            Assert.That(after.Value("mailauth_login_cache_entries"), Is.EqualTo(2), "Julie and Anna");
            Assert.That(Moved("mailauth_argon2_queue_wait_seconds_count"), Is.EqualTo(4), "four Argon2 verifications");
            Assert.That(Moved("mailauth_store_query_duration_seconds_count", ("query", "credential")), Is.EqualTo(5));
            Assert.That(after.Value("mailauth_throttle_entries"), Is.GreaterThan(0), "two failures are tracked");

            Assert.That(Moved("mailauth_connections_total", ("listener", "imap"), ("result", "admitted")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_connections_total", ("listener", "imaps"), ("result", "admitted")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_connections_total", ("listener", "submission"), ("result", "admitted")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_tls_handshakes_total", ("listener", "imaps"), ("result", "ok")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_tls_handshakes_total", ("result", "failed")), Is.Zero);

            Assert.That(Moved("mailauth_messages_total", ("outcome", "delivered")), Is.EqualTo(1));
            var delivered = SmtpTestServer.Delivered(server, "julie", "metrics-token").Single();
            Assert.That(Moved("mailauth_messages_size_bytes_total", ("outcome", "delivered")), Is.EqualTo(delivered.Length));
            Assert.That(Moved("mailauth_messages_total", ("outcome", "refused")), Is.Zero);
            Assert.That(after.Value("mailauth_outbox_pending"), Is.Zero);
            Assert.That(after.Value("mailauth_argon2_workers"), Is.GreaterThanOrEqualTo(1));
        });

        // Closed connections and ended sessions leave the gauges once the server has noticed.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        MetricsScrape settled;
        do
        {
            settled = await MetricsScrape.TakeAsync(Http, port);
        }
        while ((settled.Value("mailauth_connections_open") != 0 || settled.Value("mailauth_sessions_open") != 0) && DateTime.UtcNow < deadline && await Delay());
        Assert.That(settled.Value("mailauth_connections_open"), Is.Zero);
        Assert.That(settled.Value("mailauth_sessions_open"), Is.Zero);
    }

    [Test]
    public async Task OpenSessionsAndConnectionsAreCountedPerListener()
    {
        var (server, port) = await StartAsync();
        await using var _ = server;
        await using var imap = await ImapTestClient.ConnectAsync(server);
        Assert.That((await imap.CommandAsync("a1", $"LOGIN {SmtpTestServer.Julie} {SmtpTestServer.JuliePassword}"))[^1], Does.StartWith("a1 OK"));
        await using var idle = await SmtpTranscript.ConnectAsync(server, implicitTls: true);

        var scrape = await MetricsScrape.TakeAsync(Http, port);
        Assert.That(scrape.Value("mailauth_connections_open", ("listener", "imap")), Is.EqualTo(1));
        Assert.That(scrape.Value("mailauth_connections_open", ("listener", "submissions")), Is.EqualTo(1));
        Assert.That(scrape.Value("mailauth_sessions_open"), Is.EqualTo(1));
        Assert.That(scrape.Value("mailauth_tls_handshakes_total", ("listener", "submissions"), ("result", "ok")), Is.EqualTo(1));
    }

    [Test]
    public async Task AThrottledLoginIsCountedAsBlockedWithoutArgon2()
    {
        var (server, port) = await StartAsync(new()
        {
            ["MailAuth__Authentication__Throttle__PairFailures"] = "2",
            ["MailAuth__Authentication__Throttle__MaxDelaySeconds"] = "0",
        });
        await using var _ = server;
        var before = await MetricsScrape.TakeAsync(Http, port);
        for (var i = 1; i <= 3; i++)
        {
            await using var smtp = await SmtpTranscript.ConnectAsync(server, implicitTls: false);
            Assert.That(await smtp.LoginAsync(SmtpTestServer.Julie, $"wrong-{i}"), Does.StartWith("535"));
        }
        var after = await MetricsScrape.TakeAsync(Http, port);
        double Moved(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);
        Assert.Multiple(() =>
        {
            Assert.That(Moved("mailauth_login_attempts_total", ("reason", "wrong-password")), Is.EqualTo(2));
            Assert.That(Moved("mailauth_login_attempts_total", ("protocol", "smtp"), ("reason", "throttled"), ("result", "failed")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_throttle_blocked_total", ("protocol", "smtp")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_login_duration_seconds_count", ("verification", "refused")), Is.EqualTo(1));
            Assert.That(Moved("mailauth_argon2_queue_wait_seconds_count"), Is.EqualTo(2), "the blocked attempt ran no Argon2");
        });
    }

    [Test]
    public async Task NoLabelValueIsAnAddressOrAClientIp()
    {
        var (server, port) = await StartAsync();
        await using var _ = server;
        await using (var imap = await ImapTestClient.ConnectAsync(server))
        {
            await imap.CommandAsync("a1", $"LOGIN {SmtpTestServer.Julie} wrong-password");
            await imap.CommandAsync("a2", "LOGIN \"someone@elsewhere.example\" x");
        }
        var scrape = await MetricsScrape.TakeAsync(Http, port);
        Assert.That(scrape.MailAuthLabels().Select(label => label.Value), Has.None.Contains("@").And.None.Contains("127.0.0.1"));
        Assert.That(scrape.MailAuthLabels().Select(label => label.Label).Distinct(),
            Is.SubsetOf(new[] { "otel_scope_name", "protocol", "mechanism", "result", "reason", "verification", "query", "listener", "outcome", "le" }));
    }

    [Test]
    [Category("External")]
    public async Task PromtoolAcceptsTheOutput()
    {
        var (server, port) = await StartAsync();
        await using var _ = server;
        await using (var smtp = await SmtpTranscript.ConnectAsync(server, implicitTls: false))
        {
            await smtp.LoginAsync(SmtpTestServer.Julie, SmtpTestServer.JuliePassword);
        }
        var scrape = await MetricsScrape.TakeAsync(Http, port);
        using var promtool = Process.Start(new ProcessStartInfo("promtool", ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await promtool.StandardInput.WriteAsync(scrape.Text);
        promtool.StandardInput.Close();
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.That(promtool.ExitCode, Is.Zero, output);
        Assert.That(output, Is.Empty, "no lint warning either");
    }

    [Test]
    public async Task MetricsAreNotServedUnlessEnabled()
    {
        var port = RunningServer.FreePort();
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Metrics__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Assert.That(server.Log, Does.Not.Contain("listening metrics"));
        Assert.That(async () => await Http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics")), Throws.InstanceOf<HttpRequestException>());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }
}
