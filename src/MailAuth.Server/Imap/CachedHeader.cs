using System.Buffers;
using System.Buffers.Binary;

namespace MailAuth.Server.Imap;

/// <summary>
/// A Header record of the header cache read back (<see cref="MessageListItems.HeaderPayload"/>):
/// the ENVELOPE as sent, the cached fields' lines as the message has them, where each line is and
/// of which field, and the search-ready text (<see cref="HeaderSearchText"/>). Reading it parses
/// nothing of the message: HEADER.FIELDS is the lines a list names, copied.
/// </summary>
internal readonly struct CachedHeader
{
    /// <summary>Field number (1) and line length (4) per line.</summary>
    private const int LineEntryBytes = 5;

    private CachedHeader(ReadOnlyMemory<byte> envelope, ReadOnlyMemory<byte> lines, ReadOnlyMemory<byte> lineIndex, ReadOnlyMemory<byte> searchText)
    {
        Envelope = envelope;
        Lines = lines;
        LineIndex = lineIndex;
        SearchText = searchText;
    }

    /// <summary>The ENVELOPE item's value as sent.</summary>
    public ReadOnlyMemory<byte> Envelope { get; }

    /// <summary>Every cached field's lines, in the message's order, and the empty line that ends a header.</summary>
    public ReadOnlyMemory<byte> Lines { get; }

    private ReadOnlyMemory<byte> LineIndex { get; }

    /// <summary>The entries <see cref="HeaderSearchText"/> matches SEARCH keys against.</summary>
    public ReadOnlyMemory<byte> SearchText { get; }

    /// <summary>The parts of a Header payload, or null when it is not one.</summary>
    public static CachedHeader? Read(ReadOnlyMemory<byte> payload)
    {
        var bytes = payload.Span;
        if (bytes.Length < 4)
        {
            return null;
        }
        var envelopeLength = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (envelopeLength < 0 || envelopeLength > bytes.Length - 8)
        {
            return null;
        }
        var linesAt = 4 + envelopeLength + 4;
        var linesLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 + envelopeLength)..]);
        if (linesLength < 2 || linesLength > bytes.Length - linesAt - 2)
        {
            return null;
        }
        var indexAt = linesAt + linesLength + 2;
        var lineCount = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(linesAt + linesLength)..]);
        var indexLength = lineCount * LineEntryBytes;
        if (indexLength > bytes.Length - indexAt)
        {
            return null;
        }
        var total = 2L;
        for (var i = 0; i < lineCount; i++)
        {
            var entry = bytes.Slice(indexAt + (i * LineEntryBytes), LineEntryBytes);
            var length = BinaryPrimitives.ReadInt32LittleEndian(entry[1..]);
            if (entry[0] >= 64 || length <= 0)
            {
                return null;
            }
            total += length;
        }
        if (total != linesLength || !HeaderSearchText.IsWellFormed(bytes[(indexAt + indexLength)..]))
        {
            return null;
        }
        return new CachedHeader(
            payload.Slice(4, envelopeLength),
            payload.Slice(linesAt, linesLength),
            payload.Slice(indexAt, indexLength),
            payload[(indexAt + indexLength)..]);
    }

    /// <summary>
    /// Appends <c> {n}\r\n</c> and the bytes of BODY[HEADER.FIELDS (…)] (RFC 9051 §6.4.5): the lines of
    /// the fields in <paramref name="fields"/> (field numbers), in the message's order, then the empty
    /// line; the bytes HEADER.FIELDS from the file gives. A partial takes its range of them.
    /// </summary>
    public void WriteHeaderFields(ImapResponseBuilder response, ulong fields, long? offset, long? length)
    {
        var lines = Lines.Span;
        var index = LineIndex.Span;
        var wanted = 2;
        var all = true;
        for (var at = 0; at < index.Length; at += LineEntryBytes)
        {
            if ((fields & (1UL << index[at])) != 0)
            {
                wanted += BinaryPrimitives.ReadInt32LittleEndian(index[(at + 1)..]);
            }
            else
            {
                all = false;
            }
        }
        if (all)
        {
            // Mail clients name every field a message list shows: the answer is the cached lines as they are.
            WritePartial(response, lines, offset, length);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(wanted);
        try
        {
            var (from, to) = (0, 0);
            for (var at = 0; at < index.Length; at += LineEntryBytes)
            {
                var lineLength = BinaryPrimitives.ReadInt32LittleEndian(index[(at + 1)..]);
                if ((fields & (1UL << index[at])) != 0)
                {
                    lines.Slice(from, lineLength).CopyTo(buffer.AsSpan(to));
                    to += lineLength;
                }
                from += lineLength;
            }
            "\r\n"u8.CopyTo(buffer.AsSpan(to));
            WritePartial(response, buffer.AsSpan(0, wanted), offset, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void WritePartial(ImapResponseBuilder response, ReadOnlySpan<byte> content, long? offset, long? length)
    {
        var (skip, take) = Mime.MessageFormatter.PartialRange(content.Length, offset, length);
        response.Append(" ").Literal(content.Slice((int)skip, (int)take));
    }
}
