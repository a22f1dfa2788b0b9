using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MailAuth.Server.Tests.Observability;

namespace MailAuth.Server.Tests.Cli;

/// <summary>Issue 20: <c>mailauth config check</c> on good and broken configurations, and <c>serve</c> running the same checks.</summary>
[TestFixture]
public sealed class ConfigCheckTests
{
    /// <summary>Issue 21: printed whenever no certificate is configured, without failing the check.</summary>
    internal const string SelfSignedNotice =
        "warning: no certificate is configured: serve generates a self-signed one, which mail clients refuse or warn about "
        + "(Thunderbird's account wizard cannot find the server; Outlook and Apple Mail refuse it); set "
        + "MailAuth:Tls:Acme:Enabled, or MailAuth:Tls:CertificateFile and KeyFile";

    private MailAuthProcess _cli = null!;

    [SetUp]
    public void SetUp()
    {
        _cli = new MailAuthProcess();
        _cli.Environment["MailAuth__BindAddress"] = "127.0.0.1";
        foreach (var key in new[] { "MailAuth__Imap__Port", "MailAuth__Imap__TlsPort", "MailAuth__Smtp__SubmissionPort", "MailAuth__Smtp__SubmissionsPort" })
        {
            _cli.Environment[key] = RunningServer.FreePort().ToString(CultureInfo.InvariantCulture);
        }
    }

    [TearDown]
    public void TearDown() => _cli.Dispose();

    private string[] Lines(CliResult result) => result.Stderr.TrimEnd('\n').Split('\n');

    [Test]
    public async Task AGoodConfigurationIsOneOkLine()
    {
        var fresh = await _cli.RunAsync("config", "check");
        Assert.That(fresh, Is.EqualTo(new CliResult(0, $"configuration OK (data directory {_cli.DataDirectory})\n", SelfSignedNotice + "\n")), "nothing exists yet: serve creates it");

        Assert.That((await _cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That(await _cli.RunAsync("config", "check"), Is.EqualTo(new CliResult(0, $"configuration OK (data directory {_cli.DataDirectory})\n", SelfSignedNotice + "\n")));
    }

    [Test]
    public async Task EveryInvalidSettingIsALineOfItsOwn()
    {
        _cli.Environment["MailAuth__Hashing__Workers"] = "-1";
        _cli.Environment["MailAuth__Metrics__Enabled"] = "true";
        var result = await _cli.RunAsync("config", "check");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(Lines(result), Is.EqualTo(new[]
        {
            "error: invalid configuration: MailAuth:Hashing:Workers is -1; it must be 0 (one per core) or more",
            "error: invalid configuration: MailAuth:Metrics:Enabled is true but MailAuth:Metrics:Port is 0 (the web listener) and MailAuth:Web:Port is 0 (off): set one of them",
        }));
    }

    [Test]
    public async Task CertificateDatesNamesAndKeyAreChecked()
    {
        var now = DateTimeOffset.UtcNow;
        var directory = _cli.WorkingDirectory;
        var (expired, expiredKey) = TestCertificates.Write(directory, "old.family.example", now.AddDays(-90), now.AddDays(-1));
        var (soon, soonKey) = TestCertificates.Write(directory, "soon.family.example", now.AddDays(-80), now.AddDays(5), "*.family.example");
        var (other, _) = TestCertificates.Write(directory, "other.example", now.AddDays(-1), now.AddDays(90));
        string Time(string file) => System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(file))
            .NotAfter.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        _cli.Environment["MailAuth__Smtp__HostName"] = "mail.family.example";
        _cli.Environment["MailAuth__Tls__CertificateFile"] = expired;
        _cli.Environment["MailAuth__Tls__KeyFile"] = expiredKey;
        var result = await _cli.RunAsync("config", "check");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(Lines(result), Is.EqualTo(new[]
        {
            $"warning: MailAuth:Tls:CertificateFile {expired} expired at {Time(expired)}: renew it",
            $"warning: MailAuth:Tls:CertificateFile {expired} does not name MailAuth:Smtp:HostName mail.family.example (it names old.family.example)",
        }));

        _cli.Environment["MailAuth__Tls__CertificateFile"] = soon;
        _cli.Environment["MailAuth__Tls__KeyFile"] = soonKey;
        result = await _cli.RunAsync("config", "check");
        Assert.That(Lines(result), Is.EqualTo(new[]
        {
            $"warning: MailAuth:Tls:CertificateFile {soon} expires at {Time(soon)}, within 14 days: renew it",
        }), "the wildcard names mail.family.example");

        _cli.Environment["MailAuth__Tls__CertificateFile"] = other;
        result = await _cli.RunAsync("config", "check");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(Lines(result), Is.EqualTo(new[]
        {
            $"error: MailAuth:Tls:CertificateFile {other} and MailAuth:Tls:KeyFile {soonKey} are not a usable PEM pair: The provided key does not match the public key for this certificate. (Parameter 'privateKey')",
        }));
    }

    [Test]
    public async Task LoosePermissionsAndAnUnreadableStoreAreFound()
    {
        Assert.That((await _cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        var database = Path.Combine(_cli.DataDirectory, "mailauth.db");
        File.SetUnixFileMode(_cli.DataDirectory, (UnixFileMode)Convert.ToInt32("755", 8));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var leftover in Directory.GetFiles(_cli.DataDirectory, "mailauth.db-*"))
        {
            File.Delete(leftover);
        }
        await File.WriteAllTextAsync(database, "not a database, but long enough to be read as one. ".PadRight(4096, '.'));
        File.SetUnixFileMode(database, (UnixFileMode)Convert.ToInt32("644", 8));

        var result = await _cli.RunAsync("config", "check");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(Lines(result), Is.EqualTo(new[]
        {
            $"warning: MailAuth:DataDirectory {_cli.DataDirectory} has mode 0755, not 0700 (serve tightens it at start)",
            $"warning: {database} has mode 0644, not 0600 (serve tightens it at start)",
            $"error: store {database} unreachable: SQLite Error 26: 'file is not a database'.",
            SelfSignedNotice,
        }));

        var serve = await _cli.RunAsync("serve");
        Assert.That(serve.ExitCode, Is.EqualTo(1), serve.ToString());
        Assert.That(serve.Stderr, Is.EqualTo($"error: cannot start: store {database} unreachable: SQLite Error 26: 'file is not a database'.\n"),
            "serve runs the same checks first; the modes it tightens itself");
    }

    [Test]
    public async Task APortInUseIsFoundUnlessItsOwnServerHoldsIt()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        _cli.Environment["MailAuth__Smtp__SubmissionPort"] = port.ToString(CultureInfo.InvariantCulture);
        var result = await _cli.RunAsync("config", "check");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(Lines(result), Is.EqualTo(new[] { $"error: cannot listen on 127.0.0.1 port {port}: Address already in use", SelfSignedNotice }));
    }

    [Test]
    public async Task TheRunningServersOwnPortsAreNotReported()
    {
        await using var server = await RunningServer.StartAsync();
        var result = await server.Cli.RunAsync("config", "check");
        Assert.That(result, Is.EqualTo(new CliResult(0, $"configuration OK (data directory {server.Cli.DataDirectory})\n", SelfSignedNotice + "\n")));
    }
}
