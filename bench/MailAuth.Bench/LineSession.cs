using System.Text;

namespace MailAuth.Bench;

/// <summary>Line-oriented reading with a bound, enough for greetings, tagged and SMTP replies.</summary>
internal sealed class LineSession(Stream stream)
{
    private readonly byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    public Task SendAsync(string line, CancellationToken cancellationToken) => SendRawAsync(line + "\r\n", cancellationToken);

    /// <summary>Sends <paramref name="text"/> as it is (the Dovecot auth protocol ends lines with LF alone).</summary>
    public async Task SendRawAsync(string text, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    public async Task ExpectAsync(string prefix, CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken);
        if (!line.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new ProtocolException($"expected '{prefix}', got '{line}'");
        }
    }

    /// <summary>Skips untagged lines up to the one starting with <paramref name="tag"/>.</summary>
    public async Task<string> ReadTaggedAsync(string tag, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line.StartsWith(tag, StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    /// <summary>Reads a (multi-line) SMTP reply; checks its code when <paramref name="expected"/> is given.</summary>
    public async Task<string> ReadSmtpReplyAsync(string? expected, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line.Length < 4 || line[3] != '-')
            {
                if (expected is not null && !line.StartsWith(expected, StringComparison.Ordinal))
                {
                    throw new ProtocolException($"expected {expected}, got '{line}'");
                }
                return line;
            }
        }
    }

    public async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
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
            if (_end == _buffer.Length)
            {
                throw new ProtocolException("line too long");
            }
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                throw new ProtocolException("connection closed");
            }
            _end += read;
        }
    }
}
