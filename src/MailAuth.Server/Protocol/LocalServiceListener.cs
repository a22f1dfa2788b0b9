using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Protocol;

/// <summary>
/// The listeners of a service for the local MTA (LMTP, socketmap): a UNIX socket (mode 0660)
/// and/or a TCP port on 127.0.0.1 only. Each caller is identified by the kernel
/// (<see cref="LocalPeer"/>) before anything is read or answered, and served only when it is one
/// of <paramref name="callers"/>; the number of open connections is bounded.
/// </summary>
internal sealed partial class LocalServiceListener(
    string service,
    string? socketPath,
    int tcpPort,
    AllowedCallers callers,
    int maxConnections,
    Func<Socket, CancellationToken, Task> serve,
    ILogger logger)
{
    private readonly List<(Socket Socket, string? SocketPath, string Name)> _listeners = [];
    private int _connections;

    /// <summary>Binds both listeners (when configured); a port in use throws <see cref="IOException"/>.</summary>
    public void Bind()
    {
        if (socketPath is not null)
        {
            var unix = UnixSocketFile.Listen(socketPath, UnixSocketFile.OwnerAndGroup, backlog: 128);
            _listeners.Add((unix, socketPath, "unix:" + socketPath));
        }
        if (tcpPort != 0)
        {
            Socket tcp;
            try
            {
                tcp = ListeningSocket.Listen(
                    new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), new IPEndPoint(IPAddress.Loopback, tcpPort), 128);
            }
            catch (SocketException e)
            {
                foreach (var listener in _listeners)
                {
                    listener.Socket.Dispose();
                }
                throw new IOException($"cannot listen on 127.0.0.1 port {tcpPort}: {e.Message}", e);
            }
            _listeners.Add((tcp, null, "inet:" + tcp.LocalEndPoint));
        }
        foreach (var listener in _listeners)
        {
            LogListening(logger, service, listener.Name);
        }
        if (_listeners.Count > 0)
        {
            LogCallers(logger, service, callers.ToString(), LocalPeer.TcpMethod);
        }
    }

    public Task RunAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_listeners.Select(listener => new AcceptLoop(listener.Socket, listener.SocketPath).RunAsync(
            (client, stopping) => ServeAsync(client, listener.Name, stopping),
            error => LogAcceptFailed(logger, service, error),
            Timeout.InfiniteTimeSpan,
            stoppingToken)));

    private async Task ServeAsync(Socket client, string listener, CancellationToken stoppingToken)
    {
        using (client)
        {
            // Before anything is read or answered: a refused caller learns nothing and holds no slot.
            if (LocalPeer.Identify(client) is not { } caller)
            {
                LogUnknownCaller(logger, service, listener);
                return;
            }
            if (!callers.Allows(caller.UserId))
            {
                LogRefusedCaller(logger, service, listener, caller.ToString());
                return;
            }
            if (Interlocked.Increment(ref _connections) > maxConnections)
            {
                Interlocked.Decrement(ref _connections);
                LogTooMany(logger, service, maxConnections);
                return;
            }
            try
            {
                await serve(client, stoppingToken);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // Stopping, or the client went away mid-write.
            }
            finally
            {
                Interlocked.Decrement(ref _connections);
            }
        }
    }

    [LoggerMessage(EventId = 1740, Level = LogLevel.Information, Message = "listening {Service} on {EndPoint}")]
    private static partial void LogListening(ILogger logger, string service, string endPoint);

    [LoggerMessage(EventId = 1741, Level = LogLevel.Information, Message = "{Service} callers allowed: uid {Users} (TCP callers identified by {Method})")]
    private static partial void LogCallers(ILogger logger, string service, string users, string method);

    [LoggerMessage(EventId = 1742, Level = LogLevel.Warning,
        Message = "{Service} connection on {Listener} refused: {Caller} is not allowed to connect (AllowedUsers)")]
    private static partial void LogRefusedCaller(ILogger logger, string service, string listener, string caller);

    [LoggerMessage(EventId = 1743, Level = LogLevel.Warning,
        Message = "{Service} connection on {Listener} refused: the kernel does not say which user opened it (closed at once, or not from this host)")]
    private static partial void LogUnknownCaller(ILogger logger, string service, string listener);

    [LoggerMessage(EventId = 1744, Level = LogLevel.Warning, Message = "{Service} connection refused: already {Max} connections (MaxConnections)")]
    private static partial void LogTooMany(ILogger logger, string service, int max);

    [LoggerMessage(EventId = 1745, Level = LogLevel.Warning, Message = "{Service} accept failed: {Error}")]
    private static partial void LogAcceptFailed(ILogger logger, string service, SocketError error);
}
