using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>A raw client for hostile transcripts: writes any bytes, reads lines with a deadline, notices a close.</summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawConnection(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
    }

    public static async Task<RawConnection> OpenAsync(int port, bool tls = false)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        var connection = new RawConnection(tcp, tcp.GetStream());
        if (tls)
        {
            await connection.StartTlsAsync();
        }
        return connection;
    }

    public async Task StartTlsAsync()
    {
        var tls = new SslStream(_tcp.GetStream(), leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("localhost");
        _stream = tls;
        _start = _end = 0;
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

    /// <summary>The next line, or null when the server closed the connection; throws on timeout.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }
            if (_start > 0)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int read;
            try
            {
                read = await _stream.ReadAsync(_buffer.AsMemory(_end), deadline.Token);
            }
            catch (IOException)
            {
                return null;
            }
            if (read == 0)
            {
                return null;
            }
            _end += read;
        }
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

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
