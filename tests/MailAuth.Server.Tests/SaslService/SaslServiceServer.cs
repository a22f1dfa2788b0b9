using System.Text;
using MailAuth.Server.Tests.Hostile;

namespace MailAuth.Server.Tests.SaslService;

/// <summary>
/// The real server with the Dovecot-compatible auth service on a free loopback port and on
/// <c>DATA/auth.sock</c>, and one mailbox: <see cref="Address"/> / <see cref="Password"/>.
/// </summary>
internal static class SaslServiceServer
{
    public const string Address = "julie@family.example";
    public const string Password = "123-Abc";
    public const string SocketName = "auth.sock";

    public static async Task<(RunningServer Server, int Port)> StartAsync(IDictionary<string, string>? settings = null)
    {
        var port = RunningServer.FreePort();
        var all = new Dictionary<string, string>
        {
            ["MailAuth__SaslService__TcpPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__SaslService__SocketPath"] = SocketName,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }
        var server = await RunningServer.StartWithMailboxAsync(all, Address, Password, "listening sasl-service on inet:");
        return (server, port);
    }

    /// <summary>Waits until the server's log (read from its output asynchronously) shows <paramref name="text"/>.</summary>
    public static Task<bool> LogShowsAsync(RunningServer server, string text) =>
        LogMatchesAsync(server, new System.Text.RegularExpressions.Regex(System.Text.RegularExpressions.Regex.Escape(text)));

    /// <summary>Waits until the server's log matches <paramref name="pattern"/>.</summary>
    public static async Task<bool> LogMatchesAsync(RunningServer server, System.Text.RegularExpressions.Regex pattern)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!pattern.IsMatch(server.Log))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public static string PlainResponse(string user, string password) => Base64($"\0{user}\0{password}");

    /// <summary>Connects over TCP, reads the server's handshake up to DONE and sends the client's (not when the server closed at once).</summary>
    public static async Task<(LineConnection Connection, List<string> Handshake)> ConnectAsync(int port)
    {
        var connection = await LineConnection.OpenAsync(port);
        var handshake = new List<string>();
        while (await connection.ReadLineAsync() is { } line)
        {
            handshake.Add(line);
            if (line == "DONE")
            {
                break;
            }
        }
        if (handshake.LastOrDefault() == "DONE")
        {
            await connection.SendAsync("VERSION\t1\t2\nCPID\t4242\n");
        }
        return (connection, handshake);
    }

}
