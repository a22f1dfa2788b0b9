namespace MailAuth.Server.Imap.Parsing;

internal enum LiteralMarkerKind
{
    /// <summary>The line does not end with a literal announcement: the command is complete.</summary>
    None,

    /// <summary><c>{n}</c>: the client waits for "+" before sending n bytes.</summary>
    Synchronizing,

    /// <summary><c>{n+}</c> (RFC 7888 LITERAL+): the n bytes follow at once.</summary>
    NonSynchronizing,

    /// <summary>Braces at the end of the line whose content is not a size (negative, not a number, too large).</summary>
    Invalid,
}

/// <summary>A literal announced at the end of a line: its size and where it starts (the <c>{</c>, or the <c>~</c> of a literal8).</summary>
/// <param name="Binary">A literal8 <c>~{n}</c> (RFC 3516 §4.1): it may hold NUL bytes; only APPEND takes one.</param>
internal readonly record struct LiteralMarker(LiteralMarkerKind Kind, long Size, int Start, bool Binary = false)
{
    /// <summary>Larger than any limit we could configure; longer digit strings are rejected before parsing them.</summary>
    private const int MaxDigits = 18;

    /// <summary>
    /// Finds the literal announcement that ends <paramref name="line"/> (RFC 3501 §4.3), ignoring
    /// braces inside quoted strings: <c>a LOGIN "x{3}"</c> announces nothing.
    /// </summary>
    public static LiteralMarker Find(ReadOnlySpan<byte> line)
    {
        if (line.Length == 0 || line[^1] != (byte)'}')
        {
            return default;
        }
        var inQuote = false;
        var open = -1;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (inQuote)
            {
                if (c == (byte)'\\' && i + 1 < line.Length)
                {
                    i++;
                }
                else if (c == (byte)'"')
                {
                    inQuote = false;
                }
            }
            else if (c == (byte)'"')
            {
                inQuote = true;
            }
            else if (c == (byte)'{')
            {
                open = i;
            }
        }
        if (inQuote || open < 0)
        {
            return default;
        }
        var content = line[(open + 1)..^1];
        var kind = LiteralMarkerKind.Synchronizing;
        if (content.Length > 0 && content[^1] == (byte)'+')
        {
            kind = LiteralMarkerKind.NonSynchronizing;
            content = content[..^1];
        }
        if (content.Length is 0 or > MaxDigits)
        {
            return new LiteralMarker(LiteralMarkerKind.Invalid, 0, open);
        }
        long size = 0;
        foreach (var digit in content)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return new LiteralMarker(LiteralMarkerKind.Invalid, 0, open);
            }
            size = size * 10 + (digit - '0');
        }
        return open > 0 && line[open - 1] == (byte)'~'
            ? new LiteralMarker(kind, size, open - 1, Binary: true)
            : new LiteralMarker(kind, size, open);
    }
}
