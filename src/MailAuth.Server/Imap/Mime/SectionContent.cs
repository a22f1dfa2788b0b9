namespace MailAuth.Server.Imap.Mime;

/// <summary>A run of a section's bytes: <see cref="Length"/> bytes of the message from <see cref="Start"/>, or <see cref="Bytes"/> made here.</summary>
internal readonly record struct SectionPiece(long Start, long Length, byte[]? Bytes)
{
    public static SectionPiece Range(long start, long end) => new(start, end - start, null);

    public static SectionPiece Made(byte[] bytes) => new(0, bytes.Length, bytes);
}

/// <summary>
/// The bytes a BODY[section] names, as ranges of the message file (and the few bytes HEADER.FIELDS
/// adds), so that FETCH copies them from the file to the connection without holding them.
/// </summary>
internal sealed class SectionContent(IReadOnlyList<SectionPiece> pieces)
{
    public static readonly SectionContent Empty = new([]);

    public IReadOnlyList<SectionPiece> Pieces { get; } = pieces;

    public long Length { get; } = pieces.Sum(p => p.Length);

    public static SectionContent Range(long start, long end) => new([SectionPiece.Range(start, end)]);

    /// <summary>The bytes a partial &lt;offset.length&gt; takes of this content (RFC 3501 §6.4.5).</summary>
    public SectionContent Partial(long? offset, long? length)
    {
        var (skip, take) = MessageFormatter.PartialRange(Length, offset, length);
        if (skip == 0 && take == Length)
        {
            return this;
        }
        var result = new List<SectionPiece>();
        foreach (var piece in Pieces)
        {
            if (take == 0)
            {
                break;
            }
            if (skip >= piece.Length)
            {
                skip -= piece.Length;
                continue;
            }
            var count = Math.Min(piece.Length - skip, take);
            result.Add(piece.Bytes is { } bytes
                ? SectionPiece.Made(bytes.AsSpan((int)skip, (int)count).ToArray())
                : new SectionPiece(piece.Start + skip, count, null));
            take -= count;
            skip = 0;
        }
        return new SectionContent(result);
    }

    /// <summary>The bytes in memory; for small sections only (tests, CATENATE of a header).</summary>
    public byte[] ToArray(MimeSource source)
    {
        var output = new byte[Length];
        var position = 0;
        foreach (var piece in Pieces)
        {
            var span = output.AsSpan(position, (int)piece.Length);
            if (piece.Bytes is { } bytes)
            {
                bytes.CopyTo(span);
            }
            else
            {
                source.CopyTo(piece.Start, span);
            }
            position += (int)piece.Length;
        }
        return output;
    }
}
