using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using MailAuth.Server.Smtp.Delivery;
using MailAuth.Server.Tests.Smtp;
using MailAuth.Server.Tls;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// What MailAuth keeps on disk is its user's only, whatever the umask it was started with: the
/// data directory 0700, files 0600, an older install tightened when <c>serve</c> starts, and the
/// spool emptied at every start. Observed on the real CLI and server, started from a shell with
/// umask 022 (Debian's default), which would otherwise make everything world-readable.
/// </summary>
[TestFixture]
public sealed partial class PrivateFilesTests
{
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther = (UnixFileMode)0b000_111_111;
    private const string TightenedLine = "files: made private to the server's user";
    private const string Domain = "family.example";
    private const string Julie = "julie@family.example";
    private const string JuliePassword = "julie-Pw-1";
    private const string Anna = "anna@family.example";
    private const string Leaving = "leaving@family.example";

    private static readonly string[] PlantedSpoolFiles = ["0123456789abcdef0123456789abcdef", "left-by-kill-9"];

    private MailAuthProcess _cli = null!;
    private RunningServer _server = null!;

    /// <summary>
    /// One server for the fixture: provisioned by the CLI under umask 022, started over a spool
    /// holding what a killed server left.
    /// </summary>
    [OneTimeSetUp]
    public async Task ProvisionUnderUmask022AndStart()
    {
        _cli = new MailAuthProcess { Umask = "022" };
        await RunCliAsync(null, "domain", "add", Domain);
        await RunCliAsync(JuliePassword + "\n", "mailbox", "add", Julie);
        await RunCliAsync("anna-Pw-2\n", "mailbox", "add", Anna);
        await RunCliAsync("leaving-Pw-3\n", "mailbox", "add", Leaving);

        var spool = Path.Combine(_cli.DataDirectory, MessageSpool.DirectoryName);
        Directory.CreateDirectory(spool, PrivateDirectory);
        foreach (var name in PlantedSpoolFiles)
        {
            await File.WriteAllBytesAsync(Path.Combine(spool, name), new byte[2 * 1024 * 1024]);
            File.SetUnixFileMode(Path.Combine(spool, name), PrivateFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        File.SetLastWriteTimeUtc(Path.Combine(spool, PlantedSpoolFiles[0]), DateTime.UtcNow.AddDays(-30));

        _server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Imap__Port"] = "0",
            ["MailAuth__Imap__TlsPort"] = "0",
            ["MailAuth__Smtp__SubmissionsPort"] = "0",
        }, _cli);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _server.DisposeAsync();
        _cli.Dispose();
    }

    [Test]
    public void TheSpoolIsEmptiedAtStartWhateverTheAgeOfItsFiles()
    {
        var spool = Path.Combine(_cli.DataDirectory, MessageSpool.DirectoryName);
        Assert.That(PlantedSpoolFiles.Where(name => File.Exists(Path.Combine(spool, name))), Is.Empty, _server.Log);
        Assert.That(_server.Log, Does.Contain($"spool: removed 2 message file(s) left by an interrupted delivery in {spool}"), _server.Log);
    }

    [Test]
    public async Task AMessageBeingReceivedIsSpooledPrivately()
    {
        var spool = Path.Combine(_cli.DataDirectory, MessageSpool.DirectoryName);
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: false);
        Assert.That(await smtp.LoginAsync(Julie, JuliePassword), Does.StartWith("235 "));
        Assert.That(await smtp.CommandAsync($"MAIL FROM:<{Julie}>"), Does.StartWith("250 "));
        Assert.That(await smtp.CommandAsync($"RCPT TO:<{Anna}>"), Does.StartWith("250 "));
        var before = Directory.Exists(spool) ? Directory.GetFiles(spool) : [];
        Assert.That(await smtp.CommandAsync("DATA"), Does.StartWith("354 "));
        await smtp.SendAsync("Subject: in flight\r\n\r\nNot finished yet.\r\n");

        // The spool file exists from before the 354 until the transaction ends.
        var inFlight = Directory.GetFiles(spool).Except(before).ToList();
        Assert.That(inFlight, Has.Count.EqualTo(1), "this transaction's file");
        Assert.That(File.GetUnixFileMode(inFlight[0]), Is.EqualTo(PrivateFile), inFlight[0]);
        Assert.That(File.GetUnixFileMode(spool), Is.EqualTo(PrivateDirectory), spool);

        Assert.That(await smtp.CommandAsync("."), Does.StartWith("250 "));
    }

    [Test]
    public async Task NothingTheCliOrTheServerCreatedIsReadableByGroupOrOthers()
    {
        await SendAsync(Anna, "for anna");
        await SendAsync(Leaving, "for leaving");
        Assert.That((await _cli.RunAsync("mailbox", "remove", Leaving)).ExitCode, Is.Zero);
        Assert.That((await _cli.RunWithInputAsync("new-Pw-4\n", "mailbox", "passwd", Julie)).ExitCode, Is.Zero);

        var data = _cli.DataDirectory;
        var entries = Directory.EnumerateFileSystemEntries(data, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(data, path)).ToList();
        // The walk covers every kind of thing MailAuth writes.
        Assert.That(entries, Is.SupersetOf(new[]
        {
            "mailauth.db", "mailauth.db-wal", "mailauth.db-shm", "serve.lock", "control.sock",
            CertificateProvider.GeneratedKeyFile, CertificateProvider.GeneratedCertificateFile,
            "spool", "mail", $"mail/{Domain}/anna/new", "removed", $"removed/{Domain}",
        }));
        Assert.That(entries.Where(entry => entry.StartsWith($"mail/{Domain}/anna/new/", StringComparison.Ordinal)), Is.Not.Empty, "a delivered message");
        Assert.That(entries.Where(entry => entry.StartsWith($"removed/{Domain}/leaving.", StringComparison.Ordinal)), Is.Not.Empty, "a removed mailbox's mail");

        var readable = entries.Prepend(".")
            .Select(entry => (entry, mode: File.GetUnixFileMode(Path.Combine(data, entry))))
            .Where(e => (e.mode & GroupOrOther) != 0)
            .Select(e => $"{e.entry} {Convert.ToString((int)e.mode, 8)}");
        Assert.That(readable, Is.Empty, "entries that group or other users can reach");
        Assert.That(File.GetUnixFileMode(data), Is.EqualTo(PrivateDirectory));
        Assert.That(File.GetUnixFileMode(Path.Combine(data, "mailauth.db")), Is.EqualTo(PrivateFile));

        Assert.That(Umask(_server.ProcessId), Is.EqualTo("0077"), "the server's own umask, started under 022");
        Assert.That(_server.Log, Does.Not.Contain(TightenedLine), "a private install has nothing to tighten");
    }

    [Test]
    public async Task AnOlderInstallIsTightenedWhenTheServerStartsAndSaysSoOnce()
    {
        using var cli = new MailAuthProcess { Umask = "022" };
        Assert.That((await cli.RunAsync("domain", "add", Domain)).ExitCode, Is.Zero);
        var data = cli.DataDirectory;
        var planted = PlantOlderInstall(data);

        // The CLI verbs leave an install's modes to serve, which owns the data directory.
        Assert.That((await cli.RunAsync("domain", "list")).ExitCode, Is.Zero);
        Assert.That(File.GetUnixFileMode(data), Is.EqualTo((UnixFileMode)0b111_101_101));

        var settings = new Dictionary<string, string>
        {
            ["MailAuth__Imap__TlsPort"] = "0",
            ["MailAuth__Smtp__SubmissionPort"] = "0",
            ["MailAuth__Smtp__SubmissionsPort"] = "0",
        };
        await using (var first = await RunningServer.StartAsync(settings, cli))
        {
            var lines = first.Log.Split('\n').Where(line => line.Contains(TightenedLine, StringComparison.Ordinal)).ToList();
            Assert.That(lines, Has.Count.EqualTo(1), first.Log);
            Assert.That(lines[0], Does.Contain($": {data} 0755 -> 0700, "), first.Log);
            foreach (var (entry, before, after) in planted)
            {
                Assert.That(lines[0], Does.Contain($" {entry} {before} -> {after}"), first.Log);
            }
            Assert.That(first.Log, Does.Contain(" tls: self-signed certificate CN="), "the existing certificate is kept");
        }

        Assert.That(File.GetUnixFileMode(data), Is.EqualTo(PrivateDirectory));
        foreach (var (entry, _, after) in planted)
        {
            Assert.That(Convert.ToString((int)File.GetUnixFileMode(Path.Combine(data, entry)), 8).PadLeft(4, '0'), Is.EqualTo(after), entry);
        }
        Assert.That(File.GetUnixFileMode(Path.Combine(data, "mail", Domain)), Is.EqualTo((UnixFileMode)0b111_101_101),
            "the Maildirs are not walked: the 0700 data directory already closes them");

        await using var second = await RunningServer.StartAsync(settings, cli);
        Assert.That(second.Log, Does.Not.Contain(TightenedLine), "nothing left to tighten");
    }

    /// <summary>The modes a umask-022 install made before files were private: entry, mode before, mode expected after.</summary>
    private static List<(string Entry, string Before, string After)> PlantOlderInstall(string data)
    {
        Directory.CreateDirectory(Path.Combine(data, "tls"));
        using (var certificate = CertificateProvider.Generate(DateTimeOffset.UtcNow))
        {
            File.WriteAllText(Path.Combine(data, CertificateProvider.GeneratedCertificateFile), certificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(data, CertificateProvider.GeneratedKeyFile),
                certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        }
        File.WriteAllText(Path.Combine(data, "serve.lock"), "");
        Directory.CreateDirectory(Path.Combine(data, "mail", Domain));
        Directory.CreateDirectory(Path.Combine(data, "removed"));
        Directory.CreateDirectory(Path.Combine(data, "spool"));

        var world = new List<(string, string, string)>
        {
            ("mailauth.db", "0644", "0600"),
            ("serve.lock", "0644", "0600"),
            ("tls", "0755", "0700"),
            (CertificateProvider.GeneratedKeyFile, "0644", "0600"),
            (CertificateProvider.GeneratedCertificateFile, "0644", "0600"),
            ("mail", "0755", "0700"),
            ("removed", "2775", "0700"),
            ("spool", "0755", "0700"),
        };
        File.SetUnixFileMode(data, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(data, "mail", Domain), (UnixFileMode)0b111_101_101);
        foreach (var (entry, before, _) in world)
        {
            File.SetUnixFileMode(Path.Combine(data, entry), (UnixFileMode)Convert.ToInt32(before, 8));
        }
        return world;
    }

    private async Task SendAsync(string recipient, string subject)
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: false);
        Assert.That(await smtp.LoginAsync(Julie, JuliePassword), Does.StartWith("235 "));
        Assert.That(await smtp.CommandAsync($"MAIL FROM:<{Julie}>"), Does.StartWith("250 "));
        Assert.That(await smtp.CommandAsync($"RCPT TO:<{recipient}>"), Does.StartWith("250 "));
        Assert.That(await smtp.CommandAsync("DATA"), Does.StartWith("354 "));
        Assert.That(await smtp.CommandAsync($"Subject: {subject}\r\n\r\nHello.\r\n."), Does.StartWith("250 "));
    }

    private async Task RunCliAsync(string? input, params string[] args)
    {
        var result = await _cli.RunWithInputAsync(input, args);
        Assert.That(result.ExitCode, Is.Zero, $"mailauth {string.Join(' ', args)}: {result}");
    }

    /// <summary>The process's umask as Linux reports it in /proc/PID/status (since 4.7).</summary>
    private static string Umask(int processId) =>
        UmaskLine().Match(File.ReadAllText($"/proc/{processId}/status")).Groups[1].Value;

    [GeneratedRegex(@"^Umask:\s+(\d+)$", RegexOptions.Multiline)]
    private static partial Regex UmaskLine();
}
