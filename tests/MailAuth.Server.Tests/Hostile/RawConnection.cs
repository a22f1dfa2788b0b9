using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>A raw client for hostile transcripts: writes any bytes, reads lines with a deadline, notices a close.</summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly TestLineReader _lines = new();
    private Stream _stream;

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
        _lines.Clear();
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
        try
        {
            return await _lines.ReadLineAsync(_stream, timeout ?? TimeSpan.FromSeconds(15));
        }
        catch (IOException)
        {
            return null;
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
