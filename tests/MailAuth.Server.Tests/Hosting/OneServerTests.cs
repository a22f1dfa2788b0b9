using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// A second <c>mailauth serve</c> started by mistake (a second unit, a test run beside production)
/// must fail with one line, never share the first one's ports or data directory; a restarted one
/// must get its ports back at once.
/// </summary>
[TestFixture]
public sealed class OneServerTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Test]
    public async Task ASecondServerOnTheSameDataDirectoryExitsWithOneLineAndTheFirstKeepsServing()
    {
        await using var first = await RunningServer.StartAsync();
        var second = await ServeUntilExitAsync(first.Cli, OtherPorts());

        var lockFile = Path.Combine(first.Cli.DataDirectory, "serve.lock");
        Assert.Multiple(() =>
        {
            Assert.That(second.ExitCode, Is.EqualTo(1), second.ToString());
            Assert.That(second.Stderr, Is.EqualTo(
                $"error: cannot start: another 'mailauth serve' is running on data directory {first.Cli.DataDirectory} ({lockFile} is locked)\n"),
                second.ToString());
            Assert.That(second.Stdout, Is.Empty, "refused before anything is opened");
        });
        Assert.That(File.GetUnixFileMode(lockFile), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        // The first server's control socket was not replaced: the CLI still reaches it.
        var throttle = await first.Cli.RunAsync("throttle", "list");
        Assert.That(throttle.ExitCode, Is.Zero, throttle.ToString());
        await AssertGreetsAsync(first.ImapPort);
    }

    [Test]
    public async Task ASecondServerCannotTakeAPortTheFirstListensOn()
    {
        await using var first = await RunningServer.StartAsync();
        using var other = new MailAuthProcess();
        var ports = OtherPorts();
        ports["MailAuth__Imap__TlsPort"] = first.ImapsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var second = await ServeUntilExitAsync(other, ports);

        Assert.That(second.ExitCode, Is.EqualTo(1), second.ToString());
        Assert.That(second.Stderr, Is.EqualTo($"error: cannot start: cannot listen on 127.0.0.1 port {first.ImapsPort}: Address already in use\n"),
            second.ToString());
        // Every connection still reaches the first server (a shared port would send some to the second).
        for (var i = 0; i < 20; i++)
        {
            await AssertGreetsAsync(first.ImapPort);
        }
    }

    [Test]
    public async Task ASecondServerCannotTakeTheSaslServicePort()
    {
        var saslPort = RunningServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var first = await RunningServer.StartWithMailboxAsync(
            new Dictionary<string, string> { ["MailAuth__SaslService__TcpPort"] = saslPort },
            "anna@family.example", "correct horse", "listening sasl-service on inet:127.0.0.1:" + saslPort);
        using var other = new MailAuthProcess();
        var ports = OtherPorts();
        ports["MailAuth__SaslService__TcpPort"] = saslPort;

        var second = await ServeUntilExitAsync(other, ports);

        Assert.That(second.ExitCode, Is.EqualTo(1), second.ToString());
        Assert.That(second.Stderr, Is.EqualTo($"error: cannot start: cannot listen on 127.0.0.1 port {saslPort}: Address already in use\n"),
            second.ToString());
    }

    [Test]
    public async Task ARestartedServerGetsItsPortBackWhileOldConnectionsAreInTimeWait()
    {
        var port = RunningServer.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["MailAuth__Imap__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Imap__TlsPort"] = "0",
            ["MailAuth__Smtp__SubmissionPort"] = "0",
            ["MailAuth__Smtp__SubmissionsPort"] = "0",
        };
        using var data = new MailAuthProcess();
        await using (var first = await RunningServer.StartAsync(settings, data))
        {
            // LOGOUT: the server closes first, so its side of the connection stays in TIME_WAIT.
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            Assert.That(await reader.ReadLineAsync(), Does.StartWith("* OK"));
            await stream.WriteAsync("a LOGOUT\r\n"u8.ToArray());
            while (await reader.ReadLineAsync() is not null)
            {
            }
        }
        Assert.That(TimeWaitOn(port), Is.True, "the test needs a connection in TIME_WAIT on the port");

        await using var restarted = await RunningServer.StartAsync(settings, data);
        await AssertGreetsAsync(port);
    }

    /// <summary>Every listener of a second server on ports of its own, except those the test sets.</summary>
    private static Dictionary<string, string> OtherPorts() => new()
    {
        ["MailAuth__BindAddress"] = "127.0.0.1",
        ["MailAuth__Imap__Port"] = RunningServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MailAuth__Imap__TlsPort"] = RunningServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MailAuth__Smtp__SubmissionPort"] = "0",
        ["MailAuth__Smtp__SubmissionsPort"] = "0",
    };

    private static async Task<CliResult> ServeUntilExitAsync(MailAuthProcess cli, Dictionary<string, string> settings)
    {
        var environment = new Dictionary<string, string>(cli.Environment);
        foreach (var (key, value) in settings)
        {
            cli.Environment[key] = value;
        }
        try
        {
            using var process = cli.Start("serve");
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(ExitTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"the second server started and kept running:\n{await stdout}");
            }
            return new CliResult(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            cli.Environment.Clear();
            foreach (var (key, value) in environment)
            {
                cli.Environment[key] = value;
            }
        }
    }

    private static async Task AssertGreetsAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        using var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
        Assert.That(await reader.ReadLineAsync(), Does.StartWith("* OK"));
    }

    /// <summary>Whether /proc/net/tcp lists a connection from local <paramref name="port"/> in TIME_WAIT (state 06).</summary>
    private static bool TimeWaitOn(int port)
    {
        var local = ":" + port.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(fields => fields[1].EndsWith(local, StringComparison.Ordinal) && fields[3] == "06");
    }

}
