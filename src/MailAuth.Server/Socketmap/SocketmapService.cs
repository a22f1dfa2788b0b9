using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Socketmap;

/// <summary>
/// Postfix's socketmap table protocol (socketmap_table(5)) on a UNIX socket and/or 127.0.0.1:
/// netstring requests <c>name key</c>, one netstring reply each, on a connection Postfix keeps
/// open. The answers say which mailboxes exist, so only the callers of
/// <c>MailAuth:Socketmap:AllowedUsers</c> (by default <c>postfix</c>), root and our own user are
/// served. A request that is not a netstring, or longer than <see cref="SocketmapOptions.MaxRequestLength"/>,
/// gets <c>PERM</c> and the connection is closed: the stream cannot be followed past it.
/// </summary>
internal sealed partial class SocketmapService : BackgroundService
{
    private readonly SocketmapOptions _options;
    private readonly SocketmapLookup _lookup;
    private readonly ILogger<SocketmapService> _logger;
    private readonly LocalServiceListener _listener;

    public SocketmapService(MailAuthOptions options, SocketmapLookup lookup, ILogger<SocketmapService> logger)
    {
        _options = options.Socketmap;
        _lookup = lookup;
        _logger = logger;
        var callers = AllowedCallers.Resolve("MailAuth:Socketmap:AllowedUsers", _options.AllowedUsers, SocketmapOptions.DefaultAllowedUsers);
        var socketPath = string.IsNullOrEmpty(_options.SocketPath) ? null : Path.Combine(options.DataDirectory, _options.SocketPath);
        _listener = new LocalServiceListener("socketmap", socketPath, _options.TcpPort, callers, _options.MaxConnections, ServeAsync, logger);
    }

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
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        try
        {
            while (await ReadRequestAsync(input, stoppingToken) is { } request)
            {
                var reply = request.Length == 0 ? "PERM malformed request: not a netstring within MailAuth:Socketmap:MaxRequestLength"
                    : await AnswerAsync(request, stoppingToken);
                await stream.WriteAsync(Netstring.Encode(reply), stoppingToken);
                if (request.Length == 0)
                {
                    return;
                }
            }
        }
        finally
        {
            await input.CompleteAsync();
        }
    }

    private async Task<string> AnswerAsync(string request, CancellationToken stoppingToken)
    {
        try
        {
            return await _lookup.AnswerAsync(request, stoppingToken);
        }
        catch (System.Data.Common.DbException e)
        {
            // Postfix defers the mail (or answers 451) and asks again later: nothing is lost or refused.
            LogLookupFailed(e);
            return "TEMP mailbox database unavailable";
        }
    }

    /// <summary>The next request's text; empty for a malformed one; null when the peer closed or stayed idle.</summary>
    private async Task<string?> ReadRequestAsync(PipeReader input, CancellationToken stoppingToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        deadline.CancelAfter(_options.IdleTimeout);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                return null;
            }
            var buffer = read.Buffer;
            var status = Netstring.TryRead(ref buffer, _options.MaxRequestLength, out var payload);
            switch (status)
            {
                case NetstringStatus.Complete:
                    input.AdvanceTo(buffer.Start);
                    return Encoding.UTF8.GetString(payload);
                case NetstringStatus.Malformed:
                    LogMalformed();
                    return "";
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                return null;
            }
        }
    }

    [LoggerMessage(EventId = 1720, Level = LogLevel.Error, Message = "socketmap lookup failed; answered TEMP")]
    private partial void LogLookupFailed(Exception exception);

    [LoggerMessage(EventId = 1721, Level = LogLevel.Warning, Message = "socketmap request is not a netstring of at most MaxRequestLength bytes; answered PERM and closed")]
    private partial void LogMalformed();
}
