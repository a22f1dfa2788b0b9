using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>Issue 20: <c>config/mailauth.service</c> verified by systemd, and <c>serve</c>'s sd_notify READY.</summary>
[TestFixture]
public sealed class SystemdUnitTests
{
    private static string ShippedUnit => Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "config", "mailauth.service");

    [Test]
    [Category("External")]
    public async Task SystemdAnalyzeVerifiesTheUnitAndRatesItsExposureOk()
    {
        var directory = Directory.CreateTempSubdirectory("mailauth-unit-").FullName;
        try
        {
            // verify checks that ExecStart's program exists: the installed path becomes the built one.
            var unit = Path.Combine(directory, "mailauth.service");
            await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(ShippedUnit))
                .Replace("/usr/local/bin/mailauth", Path.Combine(AppContext.BaseDirectory, "mailauth"), StringComparison.Ordinal));
            var (exit, output) = await RunAsync("systemd-analyze", "verify", unit);
            Assert.That((exit, output), Is.EqualTo((0, "")), "no warning either");

            (exit, output) = await RunAsync("systemd-analyze", "security", "--offline=true", "--no-pager", unit);
            var level = Regex.Match(output, @"Overall exposure level for mailauth\.service: (\d+\.\d)");
            Assert.That(level.Success, Is.True, output);
            Assert.That(double.Parse(level.Groups[1].Value, CultureInfo.InvariantCulture), Is.LessThanOrEqualTo(2.5), output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void TheUnitNotifiesBindsLowPortsWithoutRootAndWritesOnlyItsData()
    {
        var lines = File.ReadAllLines(ShippedUnit);
        Assert.That(lines, Is.SupersetOf(new[]
        {
            "Type=notify", "ExecStart=/usr/local/bin/mailauth serve", "User=mailauth",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes",
            "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "ReadWritePaths=/var/lib/mailauth",
            "Environment=MailAuth__DataDirectory=/var/lib/mailauth",
        }));
    }

    [Test]
    public async Task ServeSaysReadyToSystemdOnceEveryListenerAcceptsConnections()
    {
        using var cli = new MailAuthProcess();
        var directory = cli.WorkingDirectory;
        // Microsoft.Extensions.Hosting.Systemd acts when the parent process is named systemd.
        var systemd = Path.Combine(directory, "systemd");
        File.Copy("/bin/bash", systemd);
        var notifyPath = Path.Combine(directory, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));

        var ports = Enumerable.Range(0, 4).Select(_ => RunningServer.FreePort()).ToArray();
        var start = new ProcessStartInfo(systemd) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        // "; :" keeps bash as the parent instead of exec'ing the program.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"dotnet \"{MailAuthProcess.ProgramPath}\" serve; :");
        foreach (var (key, value) in cli.Environment)
        {
            start.Environment[key] = value;
        }
        start.Environment["NOTIFY_SOCKET"] = notifyPath;
        start.Environment["MailAuth__BindAddress"] = "127.0.0.1";
        start.Environment["MailAuth__Imap__Port"] = ports[0].ToString(CultureInfo.InvariantCulture);
        start.Environment["MailAuth__Imap__TlsPort"] = ports[1].ToString(CultureInfo.InvariantCulture);
        start.Environment["MailAuth__Smtp__SubmissionPort"] = ports[2].ToString(CultureInfo.InvariantCulture);
        start.Environment["MailAuth__Smtp__SubmissionsPort"] = ports[3].ToString(CultureInfo.InvariantCulture);
        using var shell = Process.Start(start)!;
        var stdout = shell.StandardOutput.ReadToEndAsync();
        var stderr = shell.StandardError.ReadToEndAsync();
        try
        {
            var buffer = new byte[256];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var received = await notify.ReceiveAsync(buffer, timeout.Token);
            Assert.That(Encoding.ASCII.GetString(buffer, 0, received), Is.EqualTo("READY=1"));
            foreach (var port in ports)
            {
                using var client = new TcpClient();
                Assert.That(async () => await client.ConnectAsync(IPAddress.Loopback, port), Throws.Nothing, $"port {port} bound at READY");
            }
        }
        finally
        {
            var server = Process.GetProcesses().Single(process => ParentOf(process.Id) == shell.Id);
            using (var kill = Process.Start("kill", ["-TERM", server.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            await shell.WaitForExitAsync();
        }
        Assert.That(await stdout, Does.Contain("<6>MailAuth.Server.Protocol.ProtocolListenerService[100] listening imap on"),
            "journal levels: <6> is informational");
        Assert.That(await stderr, Is.Empty);
    }

    private static int ParentOf(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so count from its ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>The exit code, and what was written to stderr then stdout.</summary>
    private static async Task<(int Exit, string Output)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stderr + await stdout);
    }
}
