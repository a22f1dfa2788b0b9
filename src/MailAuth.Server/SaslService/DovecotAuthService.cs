using System.Net;
using System.Net.Sockets;
using MailAuth.Core.Authentication;
using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.SaslService;

/// <summary>
/// The Dovecot-compatible authentication service that Postfix asks with
/// <c>smtpd_sasl_type = dovecot</c>: on a UNIX socket (mode 0660, so that a group the MTA's user is
/// in can connect) and/or a TCP port bound to 127.0.0.1 only, never to a public address, because
/// a client of this protocol is trusted to report the SMTP client's address (<c>rip</c>). So each
/// connection's caller is identified by the kernel (<see cref="LocalPeer"/>) and must be one of
/// <c>MailAuth:SaslService:AllowedUsers</c>. The TCP port cannot ask for a shared secret instead:
/// Postfix's dovecot SASL client has no way to send one (the protocol has no such field and
/// <c>smtpd_sasl_path</c> takes only an address), so there the uid owning the caller's socket decides.
/// </summary>
internal sealed partial class DovecotAuthService(
    MailAuthOptions options,
    MailAuthenticator authenticator,
    ILogger<DovecotAuthService> logger) : BackgroundService
{
    private readonly SaslServiceOptions _options = options.SaslService;
    private readonly AllowedCallers _callers = AllowedCallers.Resolve(
        "MailAuth:SaslService:AllowedUsers", options.SaslService.AllowedUsers, SaslServiceOptions.DefaultAllowedUsers);
    private readonly List<(AcceptLoop Loop, string Name)> _listeners = [];
    private int _connections;
    private uint _nextConnectionId;

    /// <summary>The socket path, relative paths taken in the data directory; null when off.</summary>
    public static string? SocketPathFor(MailAuthOptions options) =>
        string.IsNullOrEmpty(options.SaslService.SocketPath) ? null : Path.Combine(options.DataDirectory, options.SaslService.SocketPath);

    /// <summary>Binds before the host reports started, so that a port in use fails the start.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var socketPath = SocketPathFor(options);
        if (socketPath is not null)
        {
            var unix = UnixSocketFile.Listen(socketPath, UnixSocketFile.OwnerAndGroup, backlog: 128);
            LogListening("unix:" + socketPath);
            _listeners.Add((new AcceptLoop(unix, socketPath), "unix:" + socketPath));
        }
        if (_options.TcpPort != 0)
        {
            Socket tcp;
            try
            {
                tcp = ListeningSocket.Listen(
                    new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), new IPEndPoint(IPAddress.Loopback, _options.TcpPort), 128);
            }
            catch (SocketException e)
            {
                throw new IOException($"cannot listen on 127.0.0.1 port {_options.TcpPort}: {e.Message}", e);
            }
            LogListening("inet:" + tcp.LocalEndPoint);
            _listeners.Add((new AcceptLoop(tcp), "inet:" + tcp.LocalEndPoint));
        }
        if (_listeners.Count > 0)
        {
            LogCallers(_callers.ToString(), LocalPeer.TcpMethod);
        }
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Stopping waits for every session to end (they end with the stopping token).</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_listeners.Select(listener => listener.Loop.RunAsync(
            (client, stopping) => ServeAsync(client, listener.Name, stopping), LogAcceptFailed, Timeout.InfiniteTimeSpan, stoppingToken)));

    private async Task ServeAsync(Socket client, string listener, CancellationToken stoppingToken)
    {
        using (client)
        {
            // Before anything is answered or counted: a refused caller learns nothing and holds no slot.
            var peer = LocalPeer.Identify(client);
            if (peer is not { } caller)
            {
                LogUnknownCaller(listener);
                return;
            }
            if (!_callers.Allows(caller.UserId))
            {
                LogRefusedCaller(listener, caller.ToString());
                return;
            }
            if (Interlocked.Increment(ref _connections) > _options.MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                LogTooMany(_options.MaxConnections);
                return;
            }
            try
            {
                await using var stream = new NetworkStream(client, ownsSocket: false);
                var session = new DovecotAuthSession(stream, authenticator, _options, Interlocked.Increment(ref _nextConnectionId), logger);
                await session.RunAsync(stoppingToken);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
                // Stopping, or the client went away mid-write.
            }
            finally
            {
                Interlocked.Decrement(ref _connections);
            }
        }
    }

    [LoggerMessage(EventId = 805, Level = LogLevel.Warning,
        Message = "sasl-service connection on {Listener} refused: {Caller} is not allowed to connect (MailAuth:SaslService:AllowedUsers)")]
    private partial void LogRefusedCaller(string listener, string caller);

    [LoggerMessage(EventId = 806, Level = LogLevel.Warning,
        Message = "sasl-service connection on {Listener} refused: the kernel does not say which user opened it (closed at once, or not from this host)")]
    private partial void LogUnknownCaller(string listener);

    [LoggerMessage(EventId = 807, Level = LogLevel.Information, Message = "sasl-service callers allowed: uid {Users} (TCP callers identified by {Method})")]
    private partial void LogCallers(string users, string method);

    [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "listening sasl-service on {EndPoint}")]
    private partial void LogListening(string endPoint);

    [LoggerMessage(EventId = 804, Level = LogLevel.Warning, Message = "sasl-service accept failed: {Error}")]
    private partial void LogAcceptFailed(SocketError error);

    [LoggerMessage(EventId = 803, Level = LogLevel.Warning, Message = "sasl-service connection refused: already {Max} connections (MailAuth:SaslService:MaxConnections)")]
    private partial void LogTooMany(int max);
}
