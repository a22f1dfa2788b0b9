namespace MailAuth.Server.Imap.Mime;

/// <summary>
/// A body part's content with its transfer encoding undone (RFC 3516 BINARY), read from the message
/// in pieces and decoded as it goes: measured once for the literal's size, decoded again to send.
/// </summary>
internal sealed class DecodedSection(MimeSource source, long start, long end, TransferEncoding encoding)
{
    private const int ReadSize = 64 * 1024;

    /// <summary>The decoded content, piece by piece.</summary>
    public IEnumerable<byte[]> Pieces()
    {
        var decoder = new TransferDecoder(encoding);
        var input = new byte[(int)Math.Min(ReadSize, Math.Max(end - start, 1))];
        var output = new List<byte>(input.Length);
        for (var position = start; position < end;)
        {
            var count = (int)Math.Min(input.Length, end - position);
            source.CopyTo(position, input.AsSpan(0, count));
            position += count;
            decoder.Decode(input.AsSpan(0, count), output);
            if (output.Count > 0)
            {
                yield return [.. output];
                output.Clear();
            }
        }
        decoder.Finish(output);
        if (output.Count > 0)
        {
            yield return [.. output];
        }
    }

    /// <summary>The decoded size, and whether the bytes a partial takes hold a NUL (then they go as a literal8, RFC 3516 §4.3).</summary>
    public (long Size, bool HasNul) Measure(long? offset, long? length)
    {
        long size = 0;
        var hasNul = false;
        var (skip, take) = (offset ?? 0, length ?? long.MaxValue);
        foreach (var piece in Pieces())
        {
            var from = Math.Clamp(skip - size, 0, piece.Length);
            var to = Math.Clamp(skip + Math.Min(take, long.MaxValue - skip) - size, 0, piece.Length);
            hasNul |= from < to && piece.AsSpan((int)from, (int)(to - from)).Contains((byte)0);
            size += piece.Length;
        }
        return (size, hasNul);
    }
}
