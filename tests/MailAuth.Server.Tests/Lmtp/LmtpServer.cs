using System.Globalization;
using MailAuth.Server.Tests.Hostile;

namespace MailAuth.Server.Tests.Lmtp;

/// <summary>
/// The real server with LMTP on a free loopback port and on <c>DATA/lmtp.sock</c>, the socketmap
/// on another port, and three mailboxes of family.example: <see cref="Julie"/>, <see cref="Anna"/>
/// and <see cref="Bob"/> (disabled).
/// </summary>
internal sealed class LmtpServer : IAsyncDisposable
{
    public const string Julie = "julie@family.example";
    public const string Anna = "anna@family.example";
    public const string Bob = "bob@family.example";
    public const string Password = "123-Abc";
    public const string SocketName = "lmtp.sock";

    private readonly Dictionary<string, string> _settings;

    private LmtpServer(MailAuthProcess cli, RunningServer server, Dictionary<string, string> settings, int lmtpPort, int socketmapPort)
    {
        Cli = cli;
        Server = server;
        _settings = settings;
        LmtpPort = lmtpPort;
        SocketmapPort = socketmapPort;
    }

    public MailAuthProcess Cli { get; }

    /// <summary>The running <c>mailauth serve</c>; a new one after <see cref="RestartAsync"/>.</summary>
    public RunningServer Server { get; private set; }

    public int LmtpPort { get; }

    public int SocketmapPort { get; }

    /// <summary>The LMTP socket; <see cref="SocketName"/> in the data directory unless the settings say otherwise.</summary>
    public string SocketPath => Path.Combine(Cli.DataDirectory, _settings["MailAuth__Lmtp__SocketPath"]);

    /// <param name="settings">Settings over the defaults above.</param>
    /// <param name="cli">The program's environment (e.g. another store) when not a new default one.</param>
    /// <param name="domain">The domain of the three mailboxes, with their local parts.</param>
    public static async Task<LmtpServer> StartAsync(IDictionary<string, string>? settings = null, MailAuthProcess? cli = null, string domain = "family.example")
    {
        var lmtpPort = RunningServer.FreePort();
        var socketmapPort = RunningServer.FreePort();
        var all = new Dictionary<string, string>
        {
            ["MailAuth__Lmtp__TcpPort"] = lmtpPort.ToString(CultureInfo.InvariantCulture),
            ["MailAuth__Lmtp__SocketPath"] = SocketName,
            ["MailAuth__Socketmap__TcpPort"] = socketmapPort.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }
        cli ??= new MailAuthProcess();
        var server = await StartServerAsync(all, cli);
        Assert.That((await cli.RunAsync("domain", "add", domain)).ExitCode, Is.Zero);
        foreach (var address in new[] { Julie, Anna, Bob })
        {
            Assert.That((await cli.RunWithInputAsync(Password + "\n", "mailbox", "add", InDomain(address, domain))).ExitCode, Is.Zero);
        }
        Assert.That((await cli.RunAsync("mailbox", "disable", InDomain(Bob, domain), "--reason", "left")).ExitCode, Is.Zero);
        return new LmtpServer(cli, server, all, lmtpPort, socketmapPort);
    }

    /// <summary><paramref name="address"/>'s local part at <paramref name="domain"/>.</summary>
    public static string InDomain(string address, string domain) => address[..(address.IndexOf('@', StringComparison.Ordinal) + 1)] + domain;

    /// <summary>Stops the server (SIGTERM); <see cref="RestartAsync"/> starts it again on the same data directory and ports.</summary>
    public ValueTask StopAsync() => Server.DisposeAsync();

    public async Task RestartAsync() => Server = await StartServerAsync(_settings, Cli);

    private static async Task<RunningServer> StartServerAsync(Dictionary<string, string> settings, MailAuthProcess cli)
    {
        var server = await RunningServer.StartAsync(settings, cli);
        Assert.That(await server.LoggedAsync("listening socketmap on inet:"), Is.True, server.Log);
        return server;
    }

    /// <summary>Connects to the LMTP port and reads the greeting.</summary>
    public async Task<LineConnection> ConnectAsync()
    {
        var connection = await LineConnection.OpenAsync(LmtpPort);
        Assert.That(await connection.ReadLineAsync(), Does.StartWith("220 "));
        return connection;
    }

    /// <summary>The messages in <paramref name="address"/>'s INBOX new/, oldest first.</summary>
    public string[] Inbox(string address)
    {
        var at = address.IndexOf('@', StringComparison.Ordinal);
        var directory = Path.Combine(Cli.DataDirectory, "mail", address[(at + 1)..], address[..at], "new");
        return Directory.Exists(directory)
            ? [.. Directory.GetFiles(directory).Order(StringComparer.Ordinal).Select(File.ReadAllText)]
            : [];
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Cli.Dispose();
    }
}

internal static class LmtpConnectionExtensions
{
    /// <summary>Reads <paramref name="count"/> reply lines (multi-line replies count each line).</summary>
    public static async Task<List<string>> ReadLinesAsync(this LineConnection connection, int count)
    {
        var lines = new List<string>();
        for (var i = 0; i < count; i++)
        {
            lines.Add(await connection.ReadLineAsync() ?? "(closed)");
        }
        return lines;
    }
}
