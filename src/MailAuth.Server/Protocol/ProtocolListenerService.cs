using System.Net;
using System.Net.Sockets;
using MailAuth.Core.Observability;
using MailAuth.Server.Hosting;
using MailAuth.Server.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Protocol;

/// <summary>
/// Binds every configured port at start-up (so a port in use fails the start with a clear line),
/// accepts connections, applies the connection limits and runs each session on its own task.
/// </summary>
internal sealed partial class ProtocolListenerService(
    IEnumerable<ListenerDefinition> definitions,
    MailAuthOptions options,
    TlsContext tls,
    MailAuthMetrics metrics,
    Readiness readiness,
    ILogger<ProtocolListenerService> logger) : IHostedService
{
    private const int Backlog = 512;

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _acceptLoops = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var definition in definitions.Where(d => d.Port != 0))
        {
            var loop = new AcceptLoop(ListeningSocket.Open(options.BindAddress, definition.Port, Backlog));
            LogListening(definition.Name, loop.LocalEndPoint);
            _acceptLoops.Add(loop.RunAsync(
                (client, _) =>
                {
                    client.NoDelay = true;
                    return ServeAsync(client, definition);
                },
                error => LogAcceptFailed(definition.Name, error),
                DrainTimeout,
                _stopping.Token));
        }
        readiness.ListenersBound = true;
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.ListenersBound = false;
        await _stopping.CancelAsync();
        await Task.WhenAll(_acceptLoops);
    }

    private async Task ServeAsync(Socket socket, ListenerDefinition definition)
    {
        ProtocolConnection connection;
        try
        {
#pragma warning disable CA2000 // disposed by the await using below; on failure the socket is
            connection = new ProtocolConnection(socket, definition.Name, metrics);
#pragma warning restore CA2000
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose(); // Gone before we looked at it.
            return;
        }
        await using var _ = connection;
        var token = _stopping.Token;
        try
        {
            var admitted = definition.Connections.TryAcquire(connection.RemoteAddress, out var network);
            metrics.ConnectionAccepted(definition.Name, admitted);
            if (!admitted)
            {
                LogRejected(definition.Name, connection.RemoteAddress);
                if (!definition.ImplicitTls
                    || await connection.AuthenticateTlsAsync(tls.ServerOptions, definition.Limits.TlsHandshakeTimeout, token))
                {
                    await definition.Handler.RejectAsync(connection, "too many connections from your address", token);
                }
                return;
            }
            metrics.ConnectionOpened(definition.Name);
            try
            {
                if (definition.ImplicitTls
                    && !await connection.AuthenticateTlsAsync(tls.ServerOptions, definition.Limits.TlsHandshakeTimeout, token))
                {
                    LogHandshakeFailed(definition.Name, connection.RemoteAddress);
                    return;
                }
                await definition.Handler.RunSessionAsync(connection, token);
            }
            finally
            {
                metrics.ConnectionClosed(definition.Name);
                definition.Connections.Release(network);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception e)
        {
            // A bug in one session must not take the listener down; it is logged with its stack.
            LogSessionCrashed(e, definition.Name, connection.RemoteAddress);
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "listening {Listener} on {EndPoint}")]
    private partial void LogListening(string listener, EndPoint endPoint);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "connection {Listener} remote={Remote} rejected: too many connections")]
    private partial void LogRejected(string listener, IPAddress remote);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "connection {Listener} remote={Remote} TLS handshake failed or timed out")]
    private partial void LogHandshakeFailed(string listener, IPAddress remote);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "accept on {Listener} failed: {Error}")]
    private partial void LogAcceptFailed(string listener, SocketError error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "session {Listener} remote={Remote} ended by an unexpected error")]
    private partial void LogSessionCrashed(Exception exception, string listener, IPAddress remote);
}
