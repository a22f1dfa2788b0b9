using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MailAuth.Server.Hosting;
using MailAuth.Server.Nodes;
using MailAuth.Server.Protocol;
using MailAuth.Server.Smtp;
using MailAuth.Server.Smtp.Delivery;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Lmtp;

/// <summary>
/// LMTP for the other nodes (<c>MailAuth:Lmtp:NodePort</c> on <c>MailAuth:BindAddress</c>), which
/// hand over mail for the mailboxes homed here. The kernel cannot name a caller on another
/// machine, so a connection is served only when it comes from one of the addresses
/// <c>MailAuth:Nodes</c> lists, and closed unanswered otherwise: whoever connects can put mail in
/// any mailbox, so the port belongs on the nodes' private network.
/// </summary>
internal sealed partial class NodeLmtpService : BackgroundService
{
    private readonly MailAuthOptions _options;
    private readonly HashSet<IPAddress> _nodes;
    private readonly string _hostName;
    private readonly RecipientResolver _recipients;
    private readonly MessageSpool _spool;
    private readonly LmtpDelivery _delivery;
    private readonly TimeProvider _clock;
    private readonly ILogger<NodeLmtpService> _logger;
    private AcceptLoop? _loop;
    private int _connections;

    public NodeLmtpService(
        MailAuthOptions options, ClusterNodes nodes, RecipientResolver recipients, MessageSpool spool, LmtpDelivery delivery,
        TimeProvider clock, ILogger<NodeLmtpService> logger)
    {
        _options = options;
        _nodes = [.. nodes.Configured.Select(node => Normal(node.Value.Address))];
        _hostName = SmtpProtocolHandler.HostNameOf(options.Smtp);
        _recipients = recipients;
        _spool = spool;
        _delivery = delivery;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>Binds before the host reports started, so that a port in use fails the start.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Lmtp.NodePort != 0)
        {
            _loop = new AcceptLoop(ListeningSocket.Open(_options.BindAddress, _options.Lmtp.NodePort, 128));
            LogListening(_loop.LocalEndPoint.ToString()!, string.Join(' ', _nodes.Order(Comparer<IPAddress>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString())))));
        }
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        _loop is null ? Task.CompletedTask : _loop.RunAsync(ServeAsync, error => LogAcceptFailed(error), Timeout.InfiniteTimeSpan, stoppingToken);

    private async Task ServeAsync(Socket client, CancellationToken stoppingToken)
    {
        using (client)
        {
            // Before anything is read or answered: a refused caller learns nothing and holds no slot.
            if (client.RemoteEndPoint is not IPEndPoint remote || !_nodes.Contains(Normal(remote.Address)))
            {
                LogRefused(client.RemoteEndPoint?.ToString() ?? "unknown");
                return;
            }
            if (Interlocked.Increment(ref _connections) > _options.Lmtp.MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                LogTooMany(_options.Lmtp.MaxConnections);
                return;
            }
            try
            {
                await using var stream = new NetworkStream(client, ownsSocket: false);
                var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));
                var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
                try
                {
                    var session = new LmtpSession(
                        input, output, $"node [{remote.Address}]", _options.Lmtp, _hostName, _recipients, _spool, _delivery, _clock, _logger, fromOtherNode: true);
                    await session.RunAsync(stoppingToken);
                }
                finally
                {
                    await input.CompleteAsync();
                    await output.CompleteAsync();
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // Stopping, or the node went away mid-write.
            }
            finally
            {
                Interlocked.Decrement(ref _connections);
            }
        }
    }

    private static IPAddress Normal(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    [LoggerMessage(EventId = 1763, Level = LogLevel.Information, Message = "listening lmtp for the other nodes on {EndPoint}; callers allowed: {Nodes}")]
    private partial void LogListening(string endPoint, string nodes);

    [LoggerMessage(EventId = 1764, Level = LogLevel.Warning,
        Message = "lmtp for the other nodes: connection from {Remote} refused: not an address MailAuth:Nodes lists")]
    private partial void LogRefused(string remote);

    [LoggerMessage(EventId = 1765, Level = LogLevel.Warning, Message = "lmtp for the other nodes: {Max} connections open (MaxConnections); closed a new one")]
    private partial void LogTooMany(int max);

    [LoggerMessage(EventId = 1766, Level = LogLevel.Error, Message = "lmtp for the other nodes: accept failed: {Error}")]
    private partial void LogAcceptFailed(SocketError error);
}
