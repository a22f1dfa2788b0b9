using System.Text;

namespace MailAuth.Core.Mailboxes;

/// <summary>A line of text, or <see cref="Text"/> null when it was longer than the limit (its rest was skipped).</summary>
public readonly record struct BoundedLine(string? Text);

/// <summary>
/// Reads LF- or CRLF-terminated lines without ever holding more than the limit of one line,
/// unlike <see cref="TextReader.ReadLine"/>, which buffers a line of any length.
/// </summary>
public sealed class BoundedLineReader(TextReader reader, int maxLineLength)
{
    private readonly char[] _chunk = new char[64 * 1024];
    private int _position;
    private int _length;

    public async Task<BoundedLine?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var tooLong = false;
        var sawAnything = false;
        while (true)
        {
            if (_position == _length)
            {
                _length = await reader.ReadAsync(_chunk.AsMemory(), cancellationToken);
                _position = 0;
                if (_length == 0)
                {
                    return sawAnything ? Finish(line, tooLong) : null;
                }
            }
            sawAnything = true;
            var available = _chunk.AsSpan(_position, _length - _position);
            var newline = available.IndexOf('\n');
            var part = newline < 0 ? available : available[..newline];
            if (!tooLong)
            {
                // +1 leaves room for the CR of a CRLF line that is exactly at the limit.
                if (line.Length + part.Length > maxLineLength + 1)
                {
                    tooLong = true;
                    line.Clear();
                }
                else
                {
                    line.Append(part);
                }
            }
            _position += newline < 0 ? part.Length : newline + 1;
            if (newline >= 0)
            {
                return Finish(line, tooLong);
            }
        }
    }

    private BoundedLine Finish(StringBuilder line, bool tooLong)
    {
        if (line.Length > 0 && line[^1] == '\r')
        {
            line.Length--;
        }
        return new BoundedLine(tooLong || line.Length > maxLineLength ? null : line.ToString());
    }
}
