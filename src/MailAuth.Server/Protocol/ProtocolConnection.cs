using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using MailAuth.Core.Observability;

namespace MailAuth.Server.Protocol;

/// <summary>
/// One client connection: a socket, optionally wrapped in TLS, read and written through pipes.
/// Every read has a deadline, every write a deadline, and STARTTLS refuses to upgrade while
/// plaintext input is still buffered (the CVE-2011-0411 command-injection class).
/// </summary>
internal sealed class ProtocolConnection : IAsyncDisposable
{
    /// <summary>A client that stops reading our responses is dropped after this long.</summary>
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(60);

    private readonly Socket _socket;
    private readonly MailAuthMetrics _metrics;
    private Stream _stream;
    private SslStream? _tls;

    public ProtocolConnection(Socket socket, string listenerName, MailAuthMetrics metrics)
    {
        _socket = socket;
        _metrics = metrics;
        _stream = new NetworkStream(socket, ownsSocket: true);
        ListenerName = listenerName;
        RemoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        (Input, Output) = CreatePipes(_stream);
    }

    public string ListenerName { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The client's address, IPv4-mapped IPv6 addresses turned back into IPv4.</summary>
    public IPAddress RemoteAddress => RemoteEndPoint.Address.IsIPv4MappedToIPv6 ? RemoteEndPoint.Address.MapToIPv4() : RemoteEndPoint.Address;

    public bool IsSecure => _tls is not null;

    /// <summary>E.g. "TLSv1.3 TLS_AES_256_GCM_SHA384", for Received headers and logs; null before TLS.</summary>
    public string? TlsDescription => _tls is null ? null : $"{Describe(_tls.SslProtocol)} {_tls.NegotiatedCipherSuite}";

    public PipeReader Input { get; private set; }

    public PipeWriter Output { get; private set; }

    /// <summary>Implicit TLS (port 993/465): the handshake comes first.</summary>
    public async Task<bool> AuthenticateTlsAsync(SslServerAuthenticationOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await Input.CompleteAsync();
        await Output.CompleteAsync();
        return await HandshakeAsync(options, timeout, cancellationToken);
    }

    /// <summary>
    /// STARTTLS: after the "go ahead" reply has been flushed. Returns false and leaves the
    /// connection unusable when the client had already sent more (it must wait for the handshake).
    /// </summary>
    public async Task<StartTlsOutcome> StartTlsAsync(SslServerAuthenticationOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (HasBufferedInput())
        {
            return StartTlsOutcome.PlaintextInjected;
        }
        await Input.CompleteAsync();
        await Output.CompleteAsync();
        return await HandshakeAsync(options, timeout, cancellationToken) ? StartTlsOutcome.Secure : StartTlsOutcome.HandshakeFailed;
    }

    /// <summary>True when bytes beyond the current command are already waiting (pipelining).</summary>
    public bool HasBufferedInput()
    {
        if (!Input.TryRead(out var result))
        {
            return false;
        }
        var buffered = result.Buffer.Length > 0;
        Input.AdvanceTo(result.Buffer.Start);
        return buffered;
    }

    public ValueTask<LineResult> ReadLineAsync(int maxLength, TimeSpan idleTimeout, CancellationToken cancellationToken) =>
        ReadLineAsync(maxLength, idleTimeout, OverlongLine.Discard, cancellationToken);

    public ValueTask<LineResult> ReadLineAsync(int maxLength, TimeSpan idleTimeout, OverlongLine overlong, CancellationToken cancellationToken) =>
        ReadLineAsync(Input, maxLength, idleTimeout, overlong, cancellationToken);

    /// <summary>A bounded line read from <paramref name="input"/> with the idle deadline; a timeout or a broken connection is a status, not an exception.</summary>
    public static async ValueTask<LineResult> ReadLineAsync(PipeReader input, int maxLength, TimeSpan idleTimeout, OverlongLine overlong, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(idleTimeout);
        try
        {
            return await LineReader.ReadLineAsync(input, maxLength, overlong, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new LineResult(LineStatus.TimedOut, []);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return new LineResult(LineStatus.Closed, []);
        }
    }

    /// <summary>Copies an announced literal or message body of exactly <paramref name="count"/> bytes, with the idle deadline per read.</summary>
    public ValueTask<bool> CopyExactlyAsync(long count, Stream destination, TimeSpan idleTimeout, CancellationToken cancellationToken) =>
        CopyExactlyAsync(Input, count, destination, idleTimeout, cancellationToken);

    /// <summary>As <see cref="CopyExactlyAsync(long, Stream, TimeSpan, CancellationToken)"/>, from <paramref name="input"/>.</summary>
    public static async ValueTask<bool> CopyExactlyAsync(PipeReader input, long count, Stream destination, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            // Re-armed before every read: a large literal on a slow link is fine, a stalled one is not.
            return await LineReader.CopyExactlyAsync(input, count, destination, deadline.Token, () => deadline.CancelAfter(idleTimeout));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Buffers <paramref name="text"/> (which carries its own CRLF) as UTF-8; sent at the next flush.</summary>
    public void Write(string text)
    {
        var span = Output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, span);
        Output.Advance(written);
    }

    public void Write(ReadOnlySpan<byte> bytes) => Output.Write(bytes);

    /// <summary>Sends what was written; false when the client is gone or stopped reading.</summary>
    public ValueTask<bool> FlushAsync(CancellationToken cancellationToken) => FlushAsync(Output, cancellationToken);

    /// <summary>As <see cref="FlushAsync(CancellationToken)"/>, for <paramref name="output"/>.</summary>
    public static async ValueTask<bool> FlushAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(WriteTimeout);
        try
        {
            var result = await output.FlushAsync(deadline.Token);
            return !result.IsCompleted && !result.IsCanceled;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    public async ValueTask WriteAndFlushAsync(string text, CancellationToken cancellationToken)
    {
        Write(text);
        await FlushAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Input.CompleteAsync();
            await Output.CompleteAsync();
            if (_tls is not null)
            {
                // close_notify, so that clients see a clean end rather than a truncated stream.
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _tls.ShutdownAsync().WaitAsync(deadline.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The peer stopped reading; close anyway.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer is gone; nothing left to flush.
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed by the peer.
        }
        await _stream.DisposeAsync();
    }

    private async Task<bool> HandshakeAsync(SslServerAuthenticationOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await tls.AuthenticateAsServerAsync(options, deadline.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or SocketException or System.ComponentModel.Win32Exception)
        {
            _metrics.TlsHandshake(ListenerName, succeeded: false);
            await tls.DisposeAsync();
            return false;
        }
        _metrics.TlsHandshake(ListenerName, succeeded: true);
        _tls = tls;
        _stream = tls;
        (Input, Output) = CreatePipes(tls);
        return true;
    }

    private static (PipeReader, PipeWriter) CreatePipes(Stream stream) =>
    (
        // Zero-byte reads: an idle connection holds no read buffer (thousands of idle IMAP clients).
        PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true)),
        PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true))
    );

    private static string Describe(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };
}

internal enum StartTlsOutcome
{
    Secure,
    HandshakeFailed,

    /// <summary>The client sent commands after STARTTLS before the handshake; they must not be trusted.</summary>
    PlaintextInjected,
}
