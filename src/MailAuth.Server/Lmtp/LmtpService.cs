using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using MailAuth.Server.Smtp;
using MailAuth.Server.Smtp.Delivery;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Lmtp;

/// <summary>
/// LMTP delivery (RFC 2033) for the MTA in front, Postfix's <c>virtual_transport = lmtp:…</c>: on
/// a UNIX socket and/or 127.0.0.1. Whoever connects can put mail in any mailbox, so only the
/// callers of <c>MailAuth:Lmtp:AllowedUsers</c> (by default <c>postfix</c>), root and our own user
/// are served, identified by the kernel.
/// </summary>
internal sealed class LmtpService : BackgroundService
{
    private readonly LmtpOptions _options;
    private readonly string _hostName;
    private readonly RecipientResolver _recipients;
    private readonly MessageSpool _spool;
    private readonly LmtpDelivery _delivery;
    private readonly TimeProvider _clock;
    private readonly ILogger<LmtpService> _logger;
    private readonly LocalServiceListener _listener;

    public LmtpService(
        MailAuthOptions options,
        RecipientResolver recipients,
        MessageSpool spool,
        LmtpDelivery delivery,
        TimeProvider clock,
        ILogger<LmtpService> logger)
    {
        _options = options.Lmtp;
        _hostName = SmtpProtocolHandler.HostNameOf(options.Smtp);
        _recipients = recipients;
        _spool = spool;
        _delivery = delivery;
        _clock = clock;
        _logger = logger;
        var callers = AllowedCallers.Resolve("MailAuth:Lmtp:AllowedUsers", _options.AllowedUsers, LmtpOptions.DefaultAllowedUsers);
        _listener = new LocalServiceListener(
            "lmtp", SocketPathFor(options), _options.TcpPort, callers, _options.MaxConnections, ServeAsync, logger);
    }

    /// <summary>The socket path, relative paths taken in the data directory; null when off.</summary>
    public static string? SocketPathFor(MailAuthOptions options) =>
        string.IsNullOrEmpty(options.Lmtp.SocketPath) ? null : Path.Combine(options.DataDirectory, options.Lmtp.SocketPath);

    /// <summary>Binds before the host reports started, so that a port in use fails the start.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.Bind();
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _listener.RunAsync(stoppingToken);

    private async Task ServeAsync(Socket client, CancellationToken stoppingToken)
    {
        await using var stream = new NetworkStream(client, ownsSocket: false);
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        var peer = client.RemoteEndPoint is IPEndPoint remote ? $"[{remote.Address}]" : "local socket";
        try
        {
            var session = new LmtpSession(input, output, peer, _options, _hostName, _recipients, _spool, _delivery, _clock, _logger);
            await session.RunAsync(stoppingToken);
        }
        finally
        {
            await input.CompleteAsync();
            await output.CompleteAsync();
        }
    }
}
