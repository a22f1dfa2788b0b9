using System.Net.Sockets;
using System.Text;

namespace MailAuth.Bench;

/// <summary>
/// Drives a Dovecot-protocol auth service (MailAuth's SaslService or Dovecot's own auth-client
/// listener) as Postfix does: each client is one long-lived connection, like one smtpd process,
/// sending one <c>AUTH PLAIN</c> at a time and waiting for its <c>OK</c> or <c>FAIL</c>.
/// </summary>
internal sealed class SaslServiceLoad(string endpoint, IReadOnlyList<Credential> users, bool expectSuccess, bool noRepeat)
{
    /// <summary>Each client keeps its connection, as an smtpd process does, and opens a new one after an error.</summary>
    public Task<LoadReport> RunAsync(int clients, TimeSpan duration, CancellationToken cancellationToken) =>
        LoadLoop.RunAsync(users, expectSuccess, noRepeat, clients, duration, () => new PersistentClient(this), cancellationToken);

    private sealed class PersistentClient(SaslServiceLoad load) : ILoadClient
    {
        private Connection? _connection;
        private uint _id;

        public async Task<bool> AttemptAsync(Credential user, CancellationToken cancellationToken)
        {
            _connection ??= await load.ConnectAsync(cancellationToken);
            return await AuthenticateAsync(_connection.Session, ++_id, user, cancellationToken);
        }

        public void Reset()
        {
            _connection?.Dispose();
            _connection = null;
        }

        public void Dispose() => Reset();
    }

    /// <summary>One connection and one request, to show a configuration error at once.</summary>
    public async Task<bool> AuthenticateOnceAsync(Credential user, CancellationToken cancellationToken)
    {
        using var connection = await ConnectAsync(cancellationToken);
        return await AuthenticateAsync(connection.Session, 1, user, cancellationToken);
    }

    private sealed class Connection(Socket socket, LineSession session) : IDisposable
    {
        public LineSession Session { get; } = session;

        public void Dispose() => socket.Dispose();
    }

    /// <summary>Connects to <c>unix:PATH</c> or <c>HOST:PORT</c>, reads the server's handshake and identifies itself.</summary>
    private async Task<Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        Socket socket;
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal))
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint[5..]), cancellationToken);
        }
        else
        {
            var colon = endpoint.LastIndexOf(':');
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endpoint[..colon], int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }
        var session = new LineSession(new NetworkStream(socket, ownsSocket: false));
        await session.SendRawAsync($"VERSION\t1\t2\nCPID\t{Environment.ProcessId}\n", cancellationToken);
        while (await session.ReadLineAsync(cancellationToken) != "DONE")
        {
        }
        return new Connection(socket, session);
    }

    private static async Task<bool> AuthenticateAsync(LineSession session, uint id, Credential user, CancellationToken cancellationToken)
    {
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user.Address}\0{user.Password}"));
        await session.SendRawAsync($"AUTH\t{id}\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1\tsecured\tresp={plain}\n", cancellationToken);
        var reply = await session.ReadLineAsync(cancellationToken);
        var prefix = reply.Split('\t', 3);
        if (prefix.Length < 2 || prefix[1] != id.ToString(System.Globalization.CultureInfo.InvariantCulture) || prefix[0] is not ("OK" or "FAIL"))
        {
            throw new ProtocolException($"unexpected answer to AUTH {id}: '{reply}'");
        }
        return prefix[0] == "OK";
    }
}
