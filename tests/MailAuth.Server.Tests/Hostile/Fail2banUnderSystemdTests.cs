using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>
/// Issue 20: <c>config/fail2ban-filter.conf</c> against what a server started by systemd writes
/// (the systemd console format: a <c>&lt;6&gt;</c> level prefix, no time), read as fail2ban reads it
/// from the journal (<c>backend = systemd</c>: journald drops the prefix, fail2ban puts
/// "host program[pid]:" in front) and from a <c>StandardOutput=append:</c> file.
/// </summary>
[TestFixture]
[Category("External")]
public sealed partial class Fail2banUnderSystemdTests
{
    [Test]
    public async Task TheFilterCountsVerifiedFailuresInTheJournalAndInSystemdsOutput()
    {
        using var cli = new MailAuthProcess();
        Assert.That((await cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync("secret-Pw-1\n", "mailbox", "add", "julie@family.example")).ExitCode, Is.Zero);
        var output = await RunUnderSystemdAsync(cli, async imapPort =>
        {
            // Two verified wrong passwords, then the pair is throttled (not verified, not for fail2ban).
            foreach (var (password, answer) in new[] { ("guess-1", "NO"), ("guess-2", "NO"), ("guess-3", "NO") })
            {
                Assert.That(await LoginAsync(imapPort, "julie@family.example", password), Does.StartWith("a1 " + answer));
            }
            Assert.That(await LoginAsync(imapPort, "nobody@family.example", "x"), Does.StartWith("a1 NO"));
        }, "reason=unknown-address");

        var lines = output.Split('\n').Where(line => line.Contains(" auth result=", StringComparison.Ordinal)).ToList();
        Assert.That(lines, Has.Count.EqualTo(4));
        Assert.That(lines, Has.All.StartsWith("<6>MailAuth.Core.Authentication.MailAuthenticator[1] auth result=failed reason="), "systemd's format: level prefix, no time");
        Assert.That(lines.Count(line => line.Contains("reason=throttled", StringComparison.Ordinal)), Is.EqualTo(1));

        var directory = cli.WorkingDirectory;
        var file = Path.Combine(directory, "stdout.log");
        await File.WriteAllLinesAsync(file, lines);
        var journal = Path.Combine(directory, "journal.log");
        await File.WriteAllLinesAsync(journal, lines.Select(line => "mx1 mailauth[812]: " + LevelPrefix().Replace(line, "")));

        foreach (var log in new[] { file, journal })
        {
            var result = await Fail2banRegexAsync(log);
            Assert.That(result, Does.Contain("Failregex: 3 total"), log + "\n" + result);
            Assert.That(result, Does.Contain("Lines: 4 lines, 0 ignored, 3 matched, 1 missed"), log + "\n" + result);
            Assert.That(result, Does.Contain("127.0.0.1"), "the remote address is what fail2ban bans");
        }
    }

    /// <summary>
    /// The journal supplies each entry's time, and a StandardOutput file has none: the jail's
    /// <c>datepattern = {NONE}</c> (README), given here on the command line.
    /// </summary>
    private static async Task<string> Fail2banRegexAsync(string log)
    {
        var filter = Path.Combine(AppContext.BaseDirectory, "config", "fail2ban-filter.conf");
        var start = new ProcessStartInfo("fail2ban-regex", ["--datepattern", "{NONE}", "--print-all-matched", log, filter])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("fail2ban-regex is not installed (./test.sh installs it)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await stdout + await stderr;
    }

    private static async Task<string> LoginAsync(int port, string address, string password)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        using var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
        await reader.ReadLineAsync();
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"a1 LOGIN {address} {password}\r\n"));
        return await reader.ReadLineAsync() ?? "";
    }

    /// <summary>
    /// <c>mailauth serve</c> as systemd starts it (Microsoft.Extensions.Hosting.Systemd recognises a
    /// parent named systemd); runs <paramref name="clients"/>, waits for <paramref name="lastLine"/>,
    /// stops the server with SIGTERM and returns what it wrote to stdout.
    /// </summary>
    private static async Task<string> RunUnderSystemdAsync(MailAuthProcess cli, Func<int, Task> clients, string lastLine)
    {
        var systemd = Path.Combine(cli.WorkingDirectory, "systemd");
        File.Copy("/bin/bash", systemd);
        var ports = Enumerable.Range(0, 4).Select(_ => RunningServer.FreePort()).ToArray();
        var start = new ProcessStartInfo(systemd) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"dotnet \"{MailAuthProcess.ProgramPath}\" serve; :");
        foreach (var (key, value) in cli.Environment)
        {
            start.Environment[key] = value;
        }
        start.Environment["MailAuth__BindAddress"] = "127.0.0.1";
        start.Environment["MailAuth__Authentication__Throttle__PairFailures"] = "2";
        start.Environment["MailAuth__Authentication__Throttle__MaxDelaySeconds"] = "0";
        start.Environment["MailAuth__Imap__Port"] = ports[0].ToString(CultureInfo.InvariantCulture);
        start.Environment["MailAuth__Imap__TlsPort"] = ports[1].ToString(CultureInfo.InvariantCulture);
        start.Environment["MailAuth__Smtp__SubmissionPort"] = ports[2].ToString(CultureInfo.InvariantCulture);
        start.Environment["MailAuth__Smtp__SubmissionsPort"] = ports[3].ToString(CultureInfo.InvariantCulture);
        using var shell = Process.Start(start)!;
        var output = new StringBuilder();
        shell.OutputDataReceived += (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line.Data);
            }
        };
        shell.BeginOutputReadLine();
        var stderr = shell.StandardError.ReadToEndAsync();
        string Output()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
        try
        {
            await WaitForAsync(() => Output().Contains("listening submissions on", StringComparison.Ordinal));
            await clients(ports[0]);
            await WaitForAsync(() => Output().Contains(lastLine, StringComparison.Ordinal));
        }
        finally
        {
            var server = Process.GetProcesses().SingleOrDefault(process => ParentOf(process.Id) == shell.Id);
            if (server is not null)
            {
                using var kill = Process.Start("kill", ["-TERM", server.Id.ToString(CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
            }
            await shell.WaitForExitAsync();
        }
        Assert.That(await stderr, Is.Empty);
        return Output();
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out waiting for the server's log");
            await Task.Delay(25);
        }
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

    /// <summary>journald's SyslogLevelPrefix: a leading "&lt;N&gt;" sets the entry's priority and is removed.</summary>
    [GeneratedRegex("^<[0-7]>")]
    private static partial Regex LevelPrefix();
}
