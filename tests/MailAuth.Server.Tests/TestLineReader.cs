using System.Text;

namespace MailAuth.Server.Tests;

/// <summary>Buffered line reading for the raw test clients: any bytes in, lines out, one deadline per line.</summary>
internal sealed class TestLineReader
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>Bytes received but not yet returned as a line.</summary>
    public bool HasBuffered => _start != _end;

    /// <summary>Forgets buffered bytes, e.g. when the stream under it becomes a TLS stream.</summary>
    public void Clear() => _start = _end = 0;

    /// <summary>The next line without its CR LF, or null when the stream ended; throws OperationCanceledException on timeout.</summary>
    public async Task<string?> ReadLineAsync(Stream stream, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
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
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), deadline.Token);
            if (read == 0)
            {
                return null;
            }
            _end += read;
        }
    }
}
