using System.Diagnostics;
using System.Globalization;

// In the root test namespace with Order(0): the longest fixture (a real publish) starts first, so
// that the other fixtures run beside it instead of after it.
namespace MailAuth.Server.Tests;

/// <summary>
/// Issue 20: the real <c>install.sh</c> (publish included) into a temporary root: the layout and
/// modes it promises, the installed single file runs on its own (libsodium and SQLite found), and
/// a second run upgrades the binary without touching the host's settings or the data.
/// </summary>
[TestFixture]
[Category("External")]
[Order(0)]
public sealed class InstallScriptTests
{
    private static string Repository => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));

    [Test]
    public async Task InstallLaysOutTheServiceAndARerunUpgradesWithoutTouchingSettingsOrData()
    {
        var root = Directory.CreateTempSubdirectory("mailauth-install-").FullName;
        try
        {
            var first = await RunAsync(Path.Combine(Repository, "install.sh"), root, "--no-system");
            Assert.That(first.Exit, Is.Zero, first.Output);

            var binary = Path.Combine(root, "usr/local/bin/mailauth");
            var settings = Path.Combine(root, "etc/mailauth/appsettings.json");
            var data = Path.Combine(root, "var/lib/mailauth");
            Assert.Multiple(() =>
            {
                Assert.That(Mode(binary), Is.EqualTo("755"));
                Assert.That(Mode(Path.Combine(root, "etc/mailauth")), Is.EqualTo("750"));
                Assert.That(Mode(settings), Is.EqualTo("640"));
                Assert.That(Mode(data), Is.EqualTo("700"));
                Assert.That(Mode(Path.Combine(root, "var/cache/mailauth")), Is.EqualTo("700"));
                Assert.That(File.ReadAllText(Path.Combine(root, "usr/local/lib/systemd/system/mailauth.service")),
                    Is.EqualTo(File.ReadAllText(Path.Combine(Repository, "config/mailauth.service"))));
                Assert.That(Directory.GetFiles(Path.Combine(root, "usr/local/share/mailauth")).Select(Path.GetFileName), Is.EquivalentTo(new[]
                {
                    "appsettings.json", "fail2ban-filter.conf", "fail2ban-jail.conf", "grafana-dashboard.json", "prometheus-alerts.yml",
                }));
                Assert.That(Directory.GetFiles(Path.Combine(root, "usr/local/bin")).Select(Path.GetFileName), Is.EqualTo(new[] { "mailauth" }),
                    "one self-contained file, nothing beside it");
                Assert.That(File.ReadAllText(settings), Does.Contain("\"DataDirectory\": \"/var/lib/mailauth\""));
            });

            // The installed file alone: its runtime, libsodium (a password hashed), SQLite (unpacked from the bundle).
            var version = await RunProgramAsync(binary, root, [], "--version");
            Assert.That(version.Exit, Is.Zero, version.Output);
            Assert.That(version.Output, Does.Match(@"^\d+\.\d+\.\d+(\+[0-9a-f]+)?$"), "mailauth --version");
            Assert.That(await RunProgramAsync(binary, root, [], "domain", "add", "family.example"), Is.EqualTo((0, "domain family.example added")));
            Assert.That(await RunProgramAsync(binary, root, ["secret-Pw-1"], "mailbox", "add", "julie@family.example"), Is.EqualTo((0, "mailbox julie@family.example added")));
            Assert.That(await RunProgramAsync(binary, root, ["secret-Pw-1"], "auth", "test", "julie@family.example"),
                Is.EqualTo((0, "ok: julie@family.example accepts this password")));
            var check = await RunProgramAsync(binary, root, [], "config", "check");
            Assert.That(check, Is.EqualTo((0, $"{Cli.ConfigCheckTests.SelfSignedNotice}\nconfiguration OK (data directory {data})")), "the generated certificate is pointed out, not refused");

            // The admin edits the settings; an upgrade keeps them and the data, and replaces the binary.
            File.WriteAllText(settings, "{ \"MailAuth\": { \"DataDirectory\": \"/srv/mail\" } }\n");
            var database = Directory.GetFiles(data).Select(file => (file, File.ReadAllBytes(file))).ToArray();
            var oldBinary = new FileInfo(binary).LastWriteTimeUtc;
            await Task.Delay(10);
            var second = await RunAsync(Path.Combine(Repository, "install.sh"), root, "--no-system", "--binary", binary);
            Assert.That(second.Exit, Is.Zero, second.Output);
            Assert.That(File.ReadAllText(settings), Is.EqualTo("{ \"MailAuth\": { \"DataDirectory\": \"/srv/mail\" } }\n"));
            Assert.That(database.All(entry => File.ReadAllBytes(entry.file).SequenceEqual(entry.Item2)), Is.True, "data untouched");
            Assert.That(Mode(data), Is.EqualTo("700"));
            Assert.That(new FileInfo(binary).LastWriteTimeUtc, Is.GreaterThan(oldBinary), "binary replaced");
            Assert.That(await RunProgramAsync(binary, root, [], "--version"), Is.EqualTo(version));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public async Task InstallRefusesAnUnknownOption()
    {
        var result = await RunAsync(Path.Combine(Repository, "install.sh"), Path.GetTempPath(), "--frobnicate");
        Assert.That(result, Is.EqualTo((2, "install.sh: unknown option --frobnicate (--binary FILE, --no-system)\n")));
    }

    private static string Mode(string path) =>
        Convert.ToString((int)File.GetUnixFileMode(path), 8);

    private static async Task<(int Exit, string Output)> RunAsync(string script, string root, params string[] args)
    {
        var start = new ProcessStartInfo(script) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        start.Environment["DESTDIR"] = root;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stderr + await stdout);
    }

    /// <summary>The installed program with the installed settings file, its data directory under the root, no listener ports.</summary>
    private static async Task<(int Exit, string Output)> RunProgramAsync(string binary, string root, string[] stdin, params string[] args)
    {
        var start = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        if (args is not ["--version"])
        {
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(Path.Combine(root, "etc/mailauth/appsettings.json"));
        }
        args.ToList().ForEach(start.ArgumentList.Add);
        start.Environment["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = Path.Combine(root, "var/cache/mailauth");
        start.Environment["MailAuth__DataDirectory"] = Path.Combine(root, "var/lib/mailauth");
        foreach (var port in new[] { "Imap__Port", "Imap__TlsPort", "Smtp__SubmissionPort", "Smtp__SubmissionsPort" })
        {
            start.Environment["MailAuth__" + port] = RunningServer.FreePort().ToString(CultureInfo.InvariantCulture);
        }
        start.Environment.Remove("DOTNET_ROOT");
        using var process = Process.Start(start)!;
        foreach (var line in stdin)
        {
            await process.StandardInput.WriteLineAsync(line);
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stderr + await stdout).TrimEnd('\n'));
    }
}
