using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MailAuth.Server.Tests;

/// <summary>
/// The one raw client connection of the protocol tests (IMAP, SMTP, LMTP, SASL, hostile
/// transcripts): any bytes out, lines or counted bytes in, each read with a deadline, TLS on
/// demand. What it sends and reads is exactly what goes over the wire.
/// </summary>
internal sealed class LineConnection : IAsyncDisposable
{
    public static readonly TimeSpan DefaultReadTimeout = TimeSpan.FromSeconds(15);

    private readonly Socket _socket;
    private Stream _stream;
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    private LineConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    /// <summary>Connects over TCP; with <paramref name="source"/>, from that local address (the server then sees a client from it).</summary>
    public static async Task<LineConnection> OpenAsync(IPAddress address, int port, IPAddress? source = null)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }
            await socket.ConnectAsync(address, port);
            return new LineConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects to 127.0.0.1, with an unchecked TLS handshake at once when <paramref name="tls"/> (implicit TLS ports).</summary>
    public static async Task<LineConnection> OpenAsync(int port, bool tls = false)
    {
        var connection = await OpenAsync(IPAddress.Loopback, port);
        if (tls)
        {
            await connection.StartTlsAsync();
        }
        return connection;
    }

    public static async Task<LineConnection> OpenUnixAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            return new LineConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Accepts exactly the certificate in <paramref name="pemFile"/> (the one the server generated).</summary>
    public static RemoteCertificateValidationCallback Pinned(string pemFile)
    {
        var expected = X509Certificate2.CreateFromPem(File.ReadAllText(pemFile)).RawData;
        return (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(expected);
    }

    /// <summary>The certificate the server presented in the TLS handshake, once there was one.</summary>
    public X509Certificate2? ServedCertificate { get; private set; }

    public bool IsSecure => _stream is SslStream;

    public string TlsDescription => _stream is SslStream tls ? $"{tls.SslProtocol} {tls.NegotiatedCipherSuite}" : "";

    /// <summary>
    /// The TLS handshake (STARTTLS or an implicit TLS port), accepting any certificate unless
    /// <paramref name="validate"/> says otherwise. Bytes the server sent before it are an error:
    /// they would be a plaintext injection (RFC 3207 §6).
    /// </summary>
    public async Task StartTlsAsync(RemoteCertificateValidationCallback? validate = null, string serverName = "localhost")
    {
        if (_start != _end)
        {
            throw new IOException("the server sent data before the TLS handshake");
        }
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false, (sender, certificate, chain, errors) =>
        {
            ServedCertificate = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return validate?.Invoke(sender, certificate, chain, errors) ?? true;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName }, timeout.Token);
        _stream = tls;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Sends one byte at a time with a pause between them (slowloris); false once the server has closed.</summary>
    public async Task<bool> TrickleAsync(string text, TimeSpan pause, CancellationToken cancellationToken)
    {
        foreach (var b in Encoding.ASCII.GetBytes(text))
        {
            try
            {
                await _stream.WriteAsync(new[] { b }, cancellationToken);
                await _stream.FlushAsync(cancellationToken);
            }
            catch (IOException)
            {
                return false;
            }
            await Task.Delay(pause, cancellationToken);
        }
        return true;
    }

    /// <summary>The next line without its CR LF, or null when the server closed the connection; throws OperationCanceledException on timeout.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultReadTimeout);
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }
            if (!await FillAsync(deadline.Token))
            {
                return null;
            }
        }
    }

    /// <summary>Exactly <paramref name="count"/> bytes (an IMAP literal's content); throws when the server closed first.</summary>
    public async Task<byte[]> ReadBytesAsync(int count, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultReadTimeout);
        while (_end - _start < count)
        {
            if (!await FillAsync(deadline.Token))
            {
                throw new EndOfStreamException("the server closed the connection");
            }
        }
        var bytes = _buffer.AsSpan(_start, count).ToArray();
        _start += count;
        return bytes;
    }

    /// <summary>Reads until the server closes; true when it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        try
        {
            while (DateTime.UtcNow < until)
            {
                if (await ReadLineAsync(until - DateTime.UtcNow) is null)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        return false;
    }

    /// <summary>Reads more bytes into the buffer (grown when full); false when the stream ended or broke.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        try
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            _end += read;
            return read > 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
