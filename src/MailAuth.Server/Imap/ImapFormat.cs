using System.Globalization;
using System.Text;
using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap;

/// <summary>How strings go on the wire (RFC 3501 §4.3): atom, quoted string, literal or NIL.</summary>
internal static class ImapFormat
{
    /// <summary>Quoted unless it is a plain atom; for ASCII text we produce (mailbox names, header field names).</summary>
    public static string AString(string value) =>
        value.Length > 0 && value.All(c => ImapReader.IsAStringChar(c)) && !value.Equals("NIL", StringComparison.OrdinalIgnoreCase)
            ? value
            : Quote(value);

    /// <summary>A quoted string; the caller makes sure there is no CR, LF or 8-bit character.</summary>
    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    public static bool CanQuote(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is 0 or (byte)'\r' or (byte)'\n' or > 0x7f)
            {
                return false;
            }
        }
        return true;
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Builds one response as bytes, so that header text with 8-bit bytes or line breaks can be sent
/// as a literal exactly as it is in the message. Header text is carried as Latin-1 strings
/// (one char per byte), which keeps the original bytes.
/// </summary>
internal sealed class ImapResponseBuilder
{
    private readonly MemoryStream _buffer = new();

    public ImapResponseBuilder Append(string ascii)
    {
        var bytes = Encoding.UTF8.GetBytes(ascii);
        _buffer.Write(bytes);
        return this;
    }

    /// <summary>Bytes already formatted for the wire (an ENVELOPE or BODYSTRUCTURE from the header cache).</summary>
    public ImapResponseBuilder Raw(ReadOnlySpan<byte> bytes)
    {
        _buffer.Write(bytes);
        return this;
    }

    /// <summary>NIL, a quoted string, or a literal holding the bytes unchanged.</summary>
    public ImapResponseBuilder NString(string? latin1)
    {
        if (latin1 is null)
        {
            return Append("NIL");
        }
        return String(Encoding.Latin1.GetBytes(latin1));
    }

    public ImapResponseBuilder String(ReadOnlySpan<byte> bytes)
    {
        if (ImapFormat.CanQuote(bytes))
        {
            return Append(ImapFormat.Quote(Encoding.ASCII.GetString(bytes)));
        }
        return Literal(bytes);
    }

    public ImapResponseBuilder Literal(ReadOnlySpan<byte> bytes)
    {
        Append("{" + ImapFormat.Number(bytes.Length) + "}\r\n");
        _buffer.Write(bytes);
        return this;
    }

    /// <summary>
    /// A literal sent straight from an open message file (BODY[section], RFC822 and their partials), so
    /// that a 50 MB message is never held in memory; the open handle keeps reading the same file even
    /// if another session renames it meanwhile (flags live in the name).
    /// </summary>
    public ImapResponseBuilder FileLiteral(FileStream file, SectionContent content)
    {
        Append("{" + ImapFormat.Number(content.Length) + "}\r\n");
        foreach (var piece in content.Pieces)
        {
            if (piece.Bytes is { } bytes)
            {
                _buffer.Write(bytes);
                continue;
            }
            _parts.Add(_buffer.ToArray());
            _buffer.SetLength(0);
            _parts.Add(new FileSegment(file, piece.Start, piece.Length));
        }
        return this;
    }

    /// <summary>
    /// A BINARY literal (RFC 3516 §4.3): the decoded bytes a partial takes, <c>~{n}</c> when they hold
    /// a NUL; decoded from the file again as they are written.
    /// </summary>
    public ImapResponseBuilder DecodedLiteral(DecodedSection section, long? offset, long? length)
    {
        var (size, hasNul) = section.Measure(offset, length);
        var (skip, take) = MessageFormatter.PartialRange(size, offset, length);
        Append((hasNul ? "~{" : "{") + ImapFormat.Number(take) + "}\r\n");
        _parts.Add(_buffer.ToArray());
        _buffer.SetLength(0);
        _parts.Add(new DecodedSegment(section, skip, take));
        return this;
    }

    private readonly List<object> _parts = [];

    private sealed record FileSegment(FileStream File, long Offset, long Length);

    private sealed record DecodedSegment(DecodedSection Section, long Skip, long Length);

    /// <summary>Bytes buffered so far, file segments included.</summary>
    public long Length => _buffer.Length + _parts.Sum(p => p switch
    {
        byte[] bytes => bytes.Length,
        FileSegment file => file.Length,
        _ => ((DecodedSegment)p).Length,
    });

    /// <summary>The response as bytes; only for responses without file segments (tests, small items).</summary>
    public byte[] ToArray() => _parts.Count == 0 ? _buffer.ToArray() : throw new InvalidOperationException("the response streams from a file");

    /// <summary>Writes the response, streaming file segments in pieces and flushing as it goes; false when the client is gone.</summary>
    public async Task<bool> WriteToAsync(ImapSession session, CancellationToken cancellationToken)
    {
        const int Chunk = 64 * 1024;
        foreach (var part in _parts)
        {
            if (part is byte[] bytes)
            {
                session.Write(bytes);
                continue;
            }
            if (part is DecodedSegment decoded)
            {
                if (!await WriteDecodedAsync(session, decoded, cancellationToken))
                {
                    return false;
                }
                continue;
            }
            var segment = (FileSegment)part;
            segment.File.Position = segment.Offset;
            var buffer = new byte[Chunk];
            var remaining = segment.Length;
            while (remaining > 0)
            {
                var read = await segment.File.ReadAsync(buffer.AsMemory(0, (int)Math.Min(Chunk, remaining)), cancellationToken);
                if (read == 0)
                {
                    // The file is shorter than announced (truncated behind our back): pad, or the client would hang.
                    buffer.AsSpan(0, (int)Math.Min(Chunk, remaining)).Fill((byte)' ');
                    read = (int)Math.Min(Chunk, remaining);
                }
                session.Write(buffer.AsSpan(0, read));
                remaining -= read;
                if (!await session.FlushAsync(cancellationToken))
                {
                    return false;
                }
            }
        }
        session.Write(_buffer.GetBuffer().AsSpan(0, (int)_buffer.Length));
        return true;
    }

    private static async Task<bool> WriteDecodedAsync(ImapSession session, DecodedSegment segment, CancellationToken cancellationToken)
    {
        var (skip, remaining) = (segment.Skip, segment.Length);
        foreach (var piece in segment.Section.Pieces())
        {
            if (remaining == 0)
            {
                break;
            }
            var from = (int)Math.Min(skip, piece.Length);
            skip -= from;
            var count = (int)Math.Min(piece.Length - from, remaining);
            if (count == 0)
            {
                continue;
            }
            session.Write(piece.AsSpan(from, count));
            remaining -= count;
            if (!await session.FlushAsync(cancellationToken))
            {
                return false;
            }
        }
        // The message changed behind our back and decodes shorter than measured: pad, or the client would hang.
        var padding = new byte[(int)Math.Min(remaining, 64 * 1024)];
        padding.AsSpan().Fill((byte)' ');
        for (; remaining > 0; remaining -= padding.Length)
        {
            session.Write(padding.AsSpan(0, (int)Math.Min(padding.Length, remaining)));
        }
        return true;
    }
}
