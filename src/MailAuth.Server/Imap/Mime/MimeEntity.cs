using System.Text;

namespace MailAuth.Server.Imap.Mime;

/// <summary>One header field: name, unfolded value (Latin-1, one char per byte) and where its raw bytes are.</summary>
internal sealed record MimeHeader(string Name, string Value, long Start, long End);

/// <summary>
/// A message or body part, parsed just enough for FETCH and SEARCH: offsets into the original
/// bytes (so that every section is sent byte-identical, straight from the file), header fields, the
/// content type, the parts of a multipart and the message inside a message/rfc822. Only header
/// text is held (bounded); bodies are scanned through <see cref="MimeSource"/>'s window. Tolerant:
/// any bytes parse.
/// </summary>
internal sealed class MimeEntity
{
    /// <summary>A hostile message cannot make parsing recurse without bound.</summary>
    private const int MaxDepth = 32;

    /// <summary>Header text kept per entity; a longer header still ends where its empty line is, the rest is not kept.</summary>
    private const int MaxHeaderBytes = 256 * 1024;

    private int? _bodyLines;

    private MimeEntity(MimeSource source, long start, long end)
    {
        Source = source;
        Start = start;
        End = end;
    }

    public MimeSource Source { get; }

    /// <summary>The message bytes when parsed from an array (SEARCH reads the text from them).</summary>
    public byte[] Data => Source.Array ?? throw new InvalidOperationException("parsed from a file");

    public long Start { get; }

    public long BodyStart { get; private set; }

    public long End { get; }

    public List<MimeHeader> Headers { get; } = [];

    public string MediaType { get; private set; } = "text";

    public string MediaSubtype { get; private set; } = "plain";

    public List<KeyValuePair<string, string>> Parameters { get; } = [];

    public List<MimeEntity> Parts { get; } = [];

    /// <summary>The encapsulated message of a message/rfc822 part.</summary>
    public MimeEntity? Message { get; private set; }

    public bool IsMultipart => MediaType == "multipart";

    public bool IsMessage => MediaType == "message" && MediaSubtype == "rfc822";

    public long BodyLength => End - BodyStart;

    public static MimeEntity Parse(byte[] data) => Parse(MimeSource.FromArray(data));

    /// <summary>Parses the structure of the whole source; a file source must stay open while the entity is used.</summary>
    public static MimeEntity Parse(MimeSource source) => Parse(source, 0, source.Length, null, 0);

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.Value;

    public string? Parameter(string name) => Parameters.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Number of lines in the body (LF count, plus a last line without LF); counted from the source when first asked.</summary>
    public int BodyLines => _bodyLines ??= CountLines();

    private int CountLines()
    {
        var lines = 0;
        for (var position = BodyStart; position < End;)
        {
            var newline = Source.IndexOfNewline(position, End);
            if (newline < 0)
            {
                return lines + 1;
            }
            lines++;
            position = newline + 1;
        }
        return lines;
    }

    private static MimeEntity Parse(MimeSource source, long start, long end, (string, string)? defaultType, int depth)
    {
        var entity = new MimeEntity(source, start, end);
        entity.ParseHeaders();
        var contentType = entity.Header("Content-Type");
        if (contentType is not null && ParseContentType(contentType, entity.Parameters) is var (type, subtype))
        {
            (entity.MediaType, entity.MediaSubtype) = (type, subtype);
        }
        else if (defaultType is var (defaultMedia, defaultSub))
        {
            (entity.MediaType, entity.MediaSubtype) = (defaultMedia, defaultSub);
        }
        if (depth >= MaxDepth)
        {
            return entity;
        }
        if (entity.IsMultipart && entity.Parameter("boundary") is { Length: > 0 } boundary)
        {
            var childDefault = entity.MediaSubtype == "digest" ? ("message", "rfc822") : ("text", "plain");
            foreach (var (partStart, partEnd) in SplitMultipart(source, entity.BodyStart, end, Encoding.Latin1.GetBytes("--" + boundary)))
            {
                entity.Parts.Add(Parse(source, partStart, partEnd, childDefault, depth + 1));
            }
        }
        else if (entity.IsMessage)
        {
            entity.Message = Parse(source, entity.BodyStart, end, ("text", "plain"), depth + 1);
        }
        return entity;
    }

    private void ParseHeaders()
    {
        var position = Start;
        MimeHeader? current = null;
        var value = new StringBuilder();
        var kept = 0L;
        while (position < End)
        {
            var lineEnd = Source.IndexOfNewline(position, End);
            var next = lineEnd < 0 ? End : lineEnd + 1;
            var contentEnd = lineEnd < 0 ? End : (lineEnd > position && Source[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd);
            if (contentEnd == position && lineEnd >= 0)
            {
                Flush();
                BodyStart = next;
                return;
            }
            var keep = (int)Math.Min(contentEnd - position, Math.Max(0, MaxHeaderBytes - kept));
            kept += keep;
            var line = Encoding.Latin1.GetString(Source.Read(position, position + keep));
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t') && current is not null)
            {
                value.Append(line);
                current = current with { End = next };
            }
            else
            {
                Flush();
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    current = new MimeHeader(line[..colon].Trim(), "", position, next);
                    value.Clear().Append(line, colon + 1, line.Length - colon - 1);
                }
            }
            position = next;
        }
        Flush();
        BodyStart = End;

        void Flush()
        {
            if (current is not null)
            {
                Headers.Add(current with { Value = value.ToString().Trim() });
                current = null;
            }
        }
    }

    /// <summary>Splits a multipart body at its delimiter lines (RFC 2046 §5.1.1); the CRLF before a delimiter belongs to it.</summary>
    private static List<(long, long)> SplitMultipart(MimeSource source, long start, long end, byte[] delimiter)
    {
        var parts = new List<(long, long)>();
        var partStart = -1L;
        var position = start;
        var head = new byte[delimiter.Length + 2];
        while (position < end)
        {
            var lineEnd = source.IndexOfNewline(position, end);
            var next = lineEnd < 0 ? end : lineEnd + 1;
            var headLength = (int)Math.Min(end - position, head.Length);
            source.CopyTo(position, head.AsSpan(0, headLength));
            if (headLength >= delimiter.Length && head.AsSpan(0, delimiter.Length).SequenceEqual(delimiter))
            {
                var isClose = position + delimiter.Length + 1 < end && head[delimiter.Length] == '-' && head[delimiter.Length + 1] == '-';
                if (partStart >= 0)
                {
                    var partEnd = position;
                    if (partEnd > partStart && source[partEnd - 1] == '\n')
                    {
                        partEnd--;
                        if (partEnd > partStart && source[partEnd - 1] == '\r')
                        {
                            partEnd--;
                        }
                    }
                    parts.Add((partStart, Math.Max(partStart, partEnd)));
                }
                if (isClose)
                {
                    return parts;
                }
                partStart = next;
            }
            position = next;
        }
        if (partStart >= 0 && partStart <= end)
        {
            parts.Add((partStart, end)); // No closing delimiter: the last part runs to the end.
        }
        return parts;
    }

    /// <summary>"text/plain; charset=utf-8" → ("text", "plain") and the parameters; null when unusable.</summary>
    public static (string, string)? ParseContentType(string value, List<KeyValuePair<string, string>> parameters)
    {
        var pieces = SplitParameters(value);
        var slash = pieces[0].IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == pieces[0].Length - 1)
        {
            return null;
        }
        ParseParameters(pieces, parameters);
        return (pieces[0][..slash].Trim().ToLowerInvariant(), pieces[0][(slash + 1)..].Trim().ToLowerInvariant());
    }

    /// <summary>"attachment; filename=a.pdf" → ("attachment", parameters).</summary>
    public static (string Kind, List<KeyValuePair<string, string>> Parameters)? ParseDisposition(string? value)
    {
        if (value is null)
        {
            return null;
        }
        var pieces = SplitParameters(value);
        var parameters = new List<KeyValuePair<string, string>>();
        ParseParameters(pieces, parameters);
        return pieces[0].Trim().Length == 0 ? null : (pieces[0].Trim(), parameters);
    }

    private static void ParseParameters(List<string> pieces, List<KeyValuePair<string, string>> parameters)
    {
        foreach (var piece in pieces.Skip(1))
        {
            var equals = piece.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }
            var name = piece[..equals].Trim();
            var value = piece[(equals + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = HeaderLexer.Unquote(value[1..^1]);
            }
            parameters.Add(KeyValuePair.Create(name, value));
        }
    }

    /// <summary>Splits at semicolons outside quoted strings, dropping (comments) (RFC 5322 §3.2 lexical tokens).</summary>
    private static List<string> SplitParameters(string value)
    {
        var pieces = new List<string>();
        var current = new StringBuilder();
        var i = 0;
        while (i < value.Length)
        {
            var c = value[i];
            if (c == '"')
            {
                var end = HeaderLexer.QuotedStringEnd(value, i);
                current.Append(value, i, end - i);
                i = end;
                continue;
            }
            if (c == '(')
            {
                i = HeaderLexer.CommentEnd(value, i);
                continue;
            }
            if (c == ';')
            {
                pieces.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
            i++;
        }
        pieces.Add(current.ToString());
        return pieces;
    }
}
