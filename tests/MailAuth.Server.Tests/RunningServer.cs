using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailAuth.Server.Tests;

/// <summary>
/// The real <c>mailauth serve</c> in its own process on free loopback ports, with its own data
/// directory; provision it with <see cref="Cli"/> (the CLI and the server share the database).
/// Disposing sends SIGTERM and waits for a clean exit.
/// </summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private readonly bool _ownsCli;

    private RunningServer(MailAuthProcess cli, Process process, Dictionary<string, int> ports, bool ownsCli)
    {
        Cli = cli;
        _process = process;
        Ports = ports;
        _ownsCli = ownsCli;
    }

    public MailAuthProcess Cli { get; }

    /// <summary>The server's process id, e.g. to read its memory from /proc.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The server's resident memory (VmRSS) in MiB.</summary>
    public double ResidentMemoryMiB()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>Listener name (imap, imaps, submission, submissions) → port.</summary>
    public IReadOnlyDictionary<string, int> Ports { get; }

    public int ImapPort => Ports["imap"];

    public int ImapsPort => Ports["imaps"];

    public int SubmissionPort => Ports["submission"];

    public int SubmissionsPort => Ports["submissions"];

    /// <summary>Everything the server logged so far (stdout and stderr).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>
    /// Whether a line holding <paramref name="text"/> reaches the log within 10 s: the console
    /// logger writes on its own thread, so a line may follow the reply it describes.
    /// </summary>
    public async Task<bool> LoggedAsync(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Log.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(25);
        }
        return true;
    }

    /// <summary>
    /// Starts the server with <paramref name="settings"/>, adds <paramref name="address"/> (its domain
    /// too) with <paramref name="password"/>, and waits until the log shows <paramref name="listening"/>.
    /// </summary>
    public static async Task<RunningServer> StartWithMailboxAsync(IDictionary<string, string> settings, string address, string password, string listening)
    {
        var server = await StartAsync(settings);
        Assert.That((await server.Cli.RunAsync("domain", "add", address[(address.IndexOf('@', StringComparison.Ordinal) + 1)..])).ExitCode, Is.Zero);
        Assert.That((await server.Cli.RunWithInputAsync(password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!server.Log.Contains(listening, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no '{listening}' in the log:\n{server.Log}");
            }
            await Task.Delay(50);
        }
        return server;
    }

    /// <summary>
    /// Starts the server; <paramref name="settings"/> are extra environment variables such as
    /// <c>MailAuth__Imap__MaxFailedAuthentications=2</c>. Every port gets a free loopback port.
    /// With <paramref name="existing"/> (the <see cref="Cli"/> of a server already stopped), the new
    /// server runs on that data directory, as after a restart; the caller keeps owning it.
    /// </summary>
    public static async Task<RunningServer> StartAsync(IDictionary<string, string>? settings = null, MailAuthProcess? existing = null)
    {
        // A port free when asked can be taken by another test process (the two test assemblies run
        // side by side) before the server binds it: start again on fresh ports, twice at most.
        for (var attempt = 1; ; attempt++)
        {
            var server = StartOnFreePorts(settings, existing);
            try
            {
                await server.WaitForListenersAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3 && server.Log.Contains("Address already in use", StringComparison.Ordinal))
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    private static RunningServer StartOnFreePorts(IDictionary<string, string>? settings, MailAuthProcess? existing)
    {
        var cli = existing ?? new MailAuthProcess();
        var ports = new Dictionary<string, int>
        {
            ["imap"] = FreePort(),
            ["imaps"] = FreePort(),
            ["submission"] = FreePort(),
            ["submissions"] = FreePort(),
        };
        cli.Environment["MailAuth__BindAddress"] = "127.0.0.1";
        cli.Environment["MailAuth__Imap__Port"] = ports["imap"].ToString(System.Globalization.CultureInfo.InvariantCulture);
        cli.Environment["MailAuth__Imap__TlsPort"] = ports["imaps"].ToString(System.Globalization.CultureInfo.InvariantCulture);
        cli.Environment["MailAuth__Smtp__SubmissionPort"] = ports["submission"].ToString(System.Globalization.CultureInfo.InvariantCulture);
        cli.Environment["MailAuth__Smtp__SubmissionsPort"] = ports["submissions"].ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            cli.Environment[key] = value;
        }
        foreach (var (name, key) in new[]
        {
            ("imap", "MailAuth__Imap__Port"), ("imaps", "MailAuth__Imap__TlsPort"),
            ("submission", "MailAuth__Smtp__SubmissionPort"), ("submissions", "MailAuth__Smtp__SubmissionsPort"),
        })
        {
            if (cli.Environment[key] == "0")
            {
                ports.Remove(name); // disabled by the caller
            }
        }

        var process = cli.Start("serve");
        var server = new RunningServer(cli, process, ports, ownsCli: existing is null);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    public async Task<TcpClient> ConnectAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
        if (_ownsCli)
        {
            Cli.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private async Task WaitForListenersAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"mailauth serve exited with {_process.ExitCode}:\n{Log}");
            }
            var log = Log;
            if (Ports.Keys.All(name => log.Contains($"listening {name} on", StringComparison.Ordinal)))
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"mailauth serve did not listen on every port within 60 s:\n{Log}");
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port free at the time of asking and never handed out before in this process: the
    /// kernel may give a port just released to the next probe, so two listeners of one server could
    /// otherwise get the same number.
    /// </summary>
    public static int FreePort()
    {
        lock (HandedOut)
        {
            while (true)
            {
                using var probe = new TcpListener(IPAddress.Loopback, 0);
                probe.Start();
                var port = ((IPEndPoint)probe.LocalEndpoint).Port;
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
