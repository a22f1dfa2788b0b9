using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailAuth.Server.Tests.Imap;

namespace MailAuth.Server.Tests.Tls;

/// <summary>
/// A renewed certificate is served by the real server without a restart, to new connections at
/// once, while an IMAP session opened before goes on; broken files leave the certificate in use.
/// </summary>
[TestFixture]
public sealed class CertificateReloadTests
{
    private const string Password = "Reload-pass 4";
    private string _directory = "";

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mailauth-reload-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private static (string Certificate, string Key) Pair(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>As certbot and most tools do: a new file written beside the old one and renamed over it.</summary>
    private static void Replace(string path, string content)
    {
        File.WriteAllText(path + ".tmp", content);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static string Subject(string pem) => X509Certificate2.CreateFromPem(pem).Subject;

    private async Task<RunningServer> StartAsync(string certificateFile, string keyFile)
    {
        var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Tls__CertificateFile"] = certificateFile,
            ["MailAuth__Tls__KeyFile"] = keyFile,
        });
        Assert.That((await server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", "reload@family.example")).ExitCode, Is.Zero);
        return server;
    }

    /// <summary>Accepts the self-signed test certificates by name only: what is asserted is which one was served.</summary>
    private static Task<ImapTestClient> OpenAsync(RunningServer server) =>
        ImapTestClient.ConnectTlsAsync(server.ImapsPort, "mail.family.example", (_, _, _) => true);

    private static async Task<ImapTestClient> LoggedInAsync(RunningServer server)
    {
        var connection = await OpenAsync(server);
        Assert.That((await connection.CommandAsync("a", $"LOGIN reload@family.example \"{Password}\""))[^1], Does.StartWith("a OK"));
        Assert.That((await connection.CommandAsync("b", "SELECT INBOX"))[^1], Does.StartWith("b OK"));
        return connection;
    }

    [Test]
    public async Task ReplacedFilesAreServedToNewConnectionsWhileOpenSessionsGoOn()
    {
        var live = Directory.CreateDirectory(Path.Combine(_directory, "live")).FullName;
        var certificateFile = Path.Combine(live, "fullchain.pem");
        var keyFile = Path.Combine(live, "privkey.pem");
        var first = Pair("first.family.example");
        File.WriteAllText(certificateFile, first.Certificate);
        File.WriteAllText(keyFile, first.Key);
        await using var server = await StartAsync(certificateFile, keyFile);
        await using var before = await LoggedInAsync(server);
        Assert.That(before.ServedCertificate.Subject, Is.EqualTo("CN=first.family.example"));

        var second = Pair("second.family.example");
        Replace(keyFile, second.Key);
        Replace(certificateFile, second.Certificate);
        Assert.That(await server.LoggedAsync("now serving the configured certificate CN=second.family.example"), Is.True, server.Log);
        await using (var after = await OpenAsync(server))
        {
            Assert.That(after.ServedCertificate.Subject, Is.EqualTo("CN=second.family.example"));
        }
        Assert.That(await before.CommandAsync("c", "NOOP"), Is.EqualTo(new[] { "c OK NOOP completed" }), "the session opened before goes on");
        Assert.That((await before.CommandAsync("d", "STATUS INBOX (MESSAGES)"))[^1], Does.StartWith("d OK"));

        // A key that does not match (a renewal caught half-way, a wrong copy): the second certificate stays.
        Replace(keyFile, Pair("third.family.example").Key);
        Assert.That(await server.LoggedAsync("kept the configured certificate"), Is.True, server.Log);
        await using (var stillSecond = await OpenAsync(server))
        {
            Assert.That(stillSecond.ServedCertificate.Subject, Is.EqualTo("CN=second.family.example"));
        }
        Assert.That(await before.CommandAsync("e", "LOGOUT"), Has.Member("e OK LOGOUT completed"));
    }

    [Test]
    public async Task SighupReloadsACertificateChangedWhereNoWatchSeesIt()
    {
        // Links in one directory to files in another, changed in place: only SIGHUP tells the server.
        var archive = Directory.CreateDirectory(Path.Combine(_directory, "archive")).FullName;
        var live = Directory.CreateDirectory(Path.Combine(_directory, "live")).FullName;
        var first = Pair("first.family.example");
        File.WriteAllText(Path.Combine(archive, "cert.pem"), first.Certificate);
        File.WriteAllText(Path.Combine(archive, "key.pem"), first.Key);
        File.CreateSymbolicLink(Path.Combine(live, "cert.pem"), Path.Combine(archive, "cert.pem"));
        File.CreateSymbolicLink(Path.Combine(live, "key.pem"), Path.Combine(archive, "key.pem"));
        await using var server = await StartAsync(Path.Combine(live, "cert.pem"), Path.Combine(live, "key.pem"));
        await using var before = await LoggedInAsync(server);

        var second = Pair("second.family.example");
        File.WriteAllText(Path.Combine(archive, "key.pem"), second.Key);
        File.WriteAllText(Path.Combine(archive, "cert.pem"), second.Certificate);
        using (var hangUp = Process.Start("kill", ["-HUP", server.ProcessId.ToString(CultureInfo.InvariantCulture)]))
        {
            await hangUp.WaitForExitAsync();
        }
        Assert.That(await server.LoggedAsync("now serving the configured certificate CN=second.family.example"), Is.True, server.Log);
        Assert.That(server.Log, Does.Contain("(SIGHUP)"));
        await using (var after = await OpenAsync(server))
        {
            Assert.That(after.ServedCertificate.Subject, Is.EqualTo(Subject(second.Certificate)));
        }
        Assert.That(await before.CommandAsync("c", "NOOP"), Is.EqualTo(new[] { "c OK NOOP completed" }), "SIGHUP ends neither the server nor a session");
    }
}
