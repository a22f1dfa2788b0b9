using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>
/// The throttle, the verified-login cache and TLS resumption on the real server, driven from
/// other processes as an operator would: raw SMTP/IMAP clients, the CLI and openssl.
/// </summary>
[TestFixture]
public sealed class LoginDefenceEndToEndTests
{
    private RunningServer _server = null!;

    [SetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Authentication__Throttle__PairFailures"] = "3",
            ["MailAuth__Authentication__Throttle__MaxDelaySeconds"] = "1",
        });
        await _server.Cli.RunAsync("domain", "add", "family.example");
        await _server.Cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", "julie@family.example");
    }

    [TearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task ThrottleListShowsABlockAndThrottleClearLiftsIt()
    {
        foreach (var guess in new[] { "guess-1", "guess-2", "guess-3" })
        {
            Assert.That(await SmtpLoginAsync("julie@family.example", guess), Does.StartWith("535 5.7.8"));
        }
        Assert.That(await SmtpLoginAsync("julie@family.example", "123-Abc"), Does.StartWith("535 5.7.8"),
            "blocked: even the right password is refused, unverified, with the same answer");
        Assert.That(await LoggedAsync("auth result=failed reason=throttled protocol=smtp mechanism=PLAIN tls=yes remote=127.0.0.1 address=julie@family.example"),
            Is.True);

        var list = await _server.Cli.RunAsync("throttle", "list", "--json");
        Assert.That(list.ExitCode, Is.Zero, list.ToString());
        var blocked = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Where(e => e.GetProperty("blocked").GetBoolean()).ToList();
        Assert.That(blocked.Select(e => e.GetProperty("key").GetString()), Is.EqualTo(new[] { "127.0.0.1 julie@family.example" }));

        var clear = await _server.Cli.RunAsync("throttle", "clear", "julie@family.example");
        Assert.That(clear.Stdout, Does.StartWith("cleared 2 entr"), clear.ToString());
        Assert.That(await SmtpLoginAsync("julie@family.example", "123-Abc"), Does.StartWith("235"));
    }

    [Category("External")]
    [Test]
    public async Task TheFail2banFilterMatchesVerifiedFailuresOnly()
    {
        foreach (var guess in new[] { "guess-1", "guess-2", "guess-3", "guess-4", "guess-5" })
        {
            await SmtpLoginAsync("julie@family.example", guess);
        }
        await SmtpLoginAsync("nobody@family.example", "x");
        Assert.That(await LoggedAsync("reason=unknown-address"), Is.True);
        var log = Path.Combine(_server.Cli.WorkingDirectory, "server.log");
        await File.WriteAllTextAsync(log, _server.Log);

        var filter = Path.Combine(AppContext.BaseDirectory, "config", "fail2ban-filter.conf");
        var start = new ProcessStartInfo("fail2ban-regex", [log, filter]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("fail2ban-regex is not installed (./test.sh installs it)");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        // 3 wrong passwords and 1 unknown address were verified; the 2 throttled attempts were not.
        Assert.That(output, Does.Contain("Failregex: 4 total"), output);
    }

    [Test]
    public async Task ThrottleCommandsSayWhenNoServerRuns()
    {
        using var cli = new MailAuthProcess();
        var result = await cli.RunAsync("throttle", "list");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.StartWith("error: the server is not running for this data directory"));
    }

    [Test]
    public async Task CachedLoginsNeverOutliveAChangeMadeByTheCliInAnotherProcess()
    {
        Assert.That(await SmtpLoginAsync("julie@family.example", "123-Abc"), Does.StartWith("235"));
        Assert.That(await SmtpLoginAsync("julie@family.example", "123-Abc"), Does.StartWith("235"));
        Assert.That(await LoggedAsync("auth result=ok reason=cached protocol=smtp"), Is.True);

        await _server.Cli.RunWithInputAsync("New-Secret-2\n", "mailbox", "passwd", "julie@family.example");
        Assert.That(await SmtpLoginAsync("julie@family.example", "123-Abc"), Does.StartWith("535"), "password changed by the CLI");
        Assert.That(await SmtpLoginAsync("julie@family.example", "New-Secret-2"), Does.StartWith("235"));
        Assert.That(await SmtpLoginAsync("julie@family.example", "New-Secret-2"), Does.StartWith("235"));

        await _server.Cli.RunAsync("mailbox", "disable", "julie@family.example", "--reason", "test");
        Assert.That(await SmtpLoginAsync("julie@family.example", "New-Secret-2"), Does.StartWith("535"), "disabled by the CLI");
        await _server.Cli.RunAsync("mailbox", "enable", "julie@family.example");
        Assert.That(await SmtpLoginAsync("julie@family.example", "New-Secret-2"), Does.StartWith("235"));

        await _server.Cli.RunAsync("mailbox", "remove", "julie@family.example");
        Assert.That(await SmtpLoginAsync("julie@family.example", "New-Secret-2"), Does.StartWith("535"), "removed by the CLI");
    }

    [Category("External")]
    [Test]
    public async Task TlsSessionsAreResumed()
    {
        var session = Path.Combine(_server.Cli.WorkingDirectory, "tls-session.pem");
        var first = await OpenSslAsync($"-sess_out {session}");
        Assert.That(first, Does.Contain("New, TLSv1.3"));
        var second = await OpenSslAsync($"-sess_in {session}");
        Assert.That(second, Does.Contain("Reused, TLSv1.3"), "a reconnecting client skips the full handshake");
    }

    /// <summary>The server's log reaches us asynchronously: waits a little for a line.</summary>
    private async Task<bool> LoggedAsync(string text)
    {
        for (var i = 0; i < 100 && !_server.Log.Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }
        return _server.Log.Contains(text, StringComparison.Ordinal);
    }

    private async Task<string> OpenSslAsync(string sessionOption)
    {
        var start = new ProcessStartInfo("openssl",
            $"s_client -connect 127.0.0.1:{_server.ImapsPort} -tls1_3 {sessionOption} -ign_eof")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        // TLS 1.3 tickets arrive after the handshake: read the greeting, then log out.
        await Task.Delay(500);
        await process.StandardInput.WriteAsync("a LOGOUT\r\n");
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    private async Task<string> SmtpLoginAsync(string address, string password)
    {
        await using var client = await LineConnection.OpenAsync(_server.SubmissionsPort, tls: true);
        await client.ReadLineAsync();
        await client.SendAsync("EHLO test.example\r\n");
        while ((await client.ReadLineAsync())!.StartsWith("250-", StringComparison.Ordinal))
        {
        }
        await client.SendAsync($"AUTH PLAIN {Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{address}\0{password}"))}\r\n");
        return await client.ReadLineAsync() ?? "(closed)";
    }
}
