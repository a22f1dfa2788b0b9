using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace MailAuth.Core.Tests.Storage;

/// <summary>
/// A loopback relay in front of the test PostgreSQL that counts its clients' round trips: a Sync
/// (extended protocol) or Query (simple protocol) message after which the client sends nothing
/// more, waiting for the server's ReadyForQuery. A connection's first messages (startup, SSL or
/// GSS request) have no type byte. Counted per relay, so other tests' connections never mix in.
/// </summary>
internal sealed class PostgresRoundTripCounter : IDisposable
{
    private const int SslRequest = 80877103;
    private const int GssRequest = 80877104;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly CancellationTokenSource _stop = new();
    private long _roundTrips;

    /// <param name="connectionString">Where the clients really go; <see cref="ConnectionString"/> goes through the relay.</param>
    public PostgresRoundTripCounter(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        _serverPort = builder.Port;
        _listener.Start();
        builder.Host = "127.0.0.1";
        builder.Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        builder.SslMode = SslMode.Disable;
        ConnectionString = builder.ConnectionString;
        _ = AcceptAsync();
    }

    public string ConnectionString { get; }

    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
                var answers = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
                await CountAsync(client.GetStream(), server.GetStream());
                await answers;
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or EndOfStreamException)
            {
                // The client or the server closed the connection.
            }
        }
    }

    /// <summary>Forwards the client's messages one by one, counting those that end a round trip.</summary>
    private async Task CountAsync(NetworkStream from, NetworkStream to)
    {
        var header = new byte[5];
        var started = false;
        while (true)
        {
            if (!started)
            {
                await from.ReadExactlyAsync(header.AsMemory(0, 4), _stop.Token);
                var length = BinaryPrimitives.ReadInt32BigEndian(header);
                var body = new byte[length - 4];
                await from.ReadExactlyAsync(body, _stop.Token);
                var code = body.Length >= 4 ? BinaryPrimitives.ReadInt32BigEndian(body) : 0;
                started = code is not (SslRequest or GssRequest);
                await to.WriteAsync(header.AsMemory(0, 4), _stop.Token);
                await to.WriteAsync(body, _stop.Token);
                continue;
            }
            await from.ReadExactlyAsync(header, _stop.Token);
            var rest = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
            await from.ReadExactlyAsync(rest, _stop.Token);
            await to.WriteAsync(header, _stop.Token);
            await to.WriteAsync(rest, _stop.Token);
            // Npgsql writes a round trip's messages at once (a pooled connection's DISCARD ALL and a
            // transaction's BEGIN go ahead of the next command's): the one the client then waits on ends it.
            if (header[0] is (byte)'S' or (byte)'Q' && !from.DataAvailable)
            {
                Interlocked.Increment(ref _roundTrips);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
