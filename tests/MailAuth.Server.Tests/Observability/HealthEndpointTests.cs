using MailAuth.Core.Storage;
using MailAuth.Server.Hosting;
using MailAuth.Server.Observability;
using MailAuth.Server.Tls;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Server.Tests.Observability;

/// <summary>Issue 20: <c>/healthz</c> and <c>/readyz</c> on the metrics port, in each state.</summary>
[TestFixture]
public sealed class HealthEndpointTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    private static async Task<(int Status, string Body)> GetAsync(int port, string path)
    {
        using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task AliveAndReadyWhenTheStoreAnswersTheListenersAreBoundAndTheCertificateIsFresh()
    {
        var (server, port) = await MetricsEndpointTests.StartAsync();
        await using var _ = server;
        Assert.That(await GetAsync(port, "/healthz"), Is.EqualTo((200, "ok\n")));
        Assert.That(await GetAsync(port, "/readyz"), Is.EqualTo((200, "ready\n")));
        Assert.That((await GetAsync(port, "/other")).Status, Is.EqualTo(404));
    }

    [Test]
    public async Task NotReadyWhileTheStoreCannotBeOpenedAndReadyAgainAfter()
    {
        var (server, port) = await MetricsEndpointTests.StartAsync();
        await using var _ = server;
        var database = Path.Combine(server.Cli.DataDirectory, SqliteDatabase.FileName);
        File.Move(database, database + ".away");
        try
        {
            var (status, body) = await GetAsync(port, "/readyz");
            Assert.That(status, Is.EqualTo(503));
            Assert.That(body, Does.StartWith("store unreachable: ").And.EndWith("\n"));
            Assert.That(body.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1), "the only problem");
            Assert.That(await GetAsync(port, "/healthz"), Is.EqualTo((200, "ok\n")), "alive all the same");
        }
        finally
        {
            File.Move(database + ".away", database);
        }
        Assert.That(await GetAsync(port, "/readyz"), Is.EqualTo((200, "ready\n")));
    }

    [Test]
    public async Task NotReadyWhenTheCertificateExpiresWithinFourteenDays()
    {
        var directory = Path.Combine(Path.GetTempPath(), "mailauth-cert-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var notAfter = DateTimeOffset.UtcNow.AddDays(10);
            var (certificate, key) = TestCertificates.Write(directory, "mail.family.example", DateTimeOffset.UtcNow.AddDays(-80), notAfter);
            var (server, port) = await MetricsEndpointTests.StartAsync(new()
            {
                ["MailAuth__Tls__CertificateFile"] = certificate,
                ["MailAuth__Tls__KeyFile"] = key,
            });
            await using var _ = server;
            var (status, body) = await GetAsync(port, "/readyz");
            Assert.That(status, Is.EqualTo(503));
            Assert.That(body, Is.EqualTo($"certificate expires {notAfter.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} (within 14 days)\n"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public async Task NotReadyUntilTheListenersAreBound()
    {
        // The listeners are bound before the metrics port opens and unbound after it closes, so a
        // running server cannot show this state: the readiness check itself is asked.
        var directory = Path.Combine(Path.GetTempPath(), "mailauth-ready-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var options = new MailAuthOptions { DataDirectory = directory };
            var readiness = new Readiness(
                SqliteDatabase.OpenInDirectory(directory),
                new CertificateProvider(options, TimeProvider.System, NullLogger<CertificateProvider>.Instance),
                TimeProvider.System);
            Assert.That(await readiness.ProblemsAsync(CancellationToken.None), Is.EqualTo(new[] { "listeners not bound" }));
            readiness.ListenersBound = true;
            Assert.That(await readiness.ProblemsAsync(CancellationToken.None), Is.Empty);
        }
        finally
        {
            SqliteDatabase.ClearPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
