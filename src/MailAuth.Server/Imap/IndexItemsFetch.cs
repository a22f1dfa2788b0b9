using System.Buffers;
using System.Globalization;
using System.Text;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// A FETCH whose items all come from the folder index (UID, FLAGS, RFC822.SIZE, INTERNALDATE,
/// MODSEQ), as clients send it to resynchronise flags (<c>UID FETCH 1:* (UID FLAGS)</c>): every
/// response is formatted straight into one pooled buffer, numbers as they are written and each
/// distinct flag list encoded once per command, so that a 100,000-message folder costs no
/// allocation per message. The bytes are those <see cref="Commands.FetchCommand.Write"/> gives.
/// </summary>
internal sealed class IndexItemsFetch
{
    /// <summary>Responses go to the connection in pieces of about this size.</summary>
    private const int ChunkBytes = 64 * 1024;

    /// <summary>Written out (flushed to the client) once this much waits, as FetchCommand does.</summary>
    private const int FlushThreshold = 256 * 1024;

    private readonly Dictionary<(MessageFlags Flags, string Letters, bool Recent), byte[]> _flagLists = [];
    private readonly SelectedFolder _selected;
    private readonly IReadOnlyList<FetchAttribute> _attributes;

    private IndexItemsFetch(SelectedFolder selected, IReadOnlyList<FetchAttribute> attributes)
    {
        _selected = selected;
        _attributes = attributes;
    }

    /// <summary>Whether every item is one the index holds (and there are no \Seen changes to report along).</summary>
    public static bool Covers(IReadOnlyList<FetchAttribute> attributes, IReadOnlySet<uint> seenNow)
    {
        if (seenNow.Count > 0 || attributes.Count == 0)
        {
            return false;
        }
        foreach (var attribute in attributes)
        {
            if (attribute.Kind is not (FetchKind.Flags or FetchKind.Uid or FetchKind.Rfc822Size or FetchKind.ModSeq or FetchKind.InternalDate))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Writes the FETCH responses of the messages at <paramref name="indexes"/>; false when the client is gone.</summary>
    public static async Task<bool> WriteAsync(ImapSession session, SelectedFolder selected, IEnumerable<int> indexes, IReadOnlyList<FetchAttribute> attributes, CancellationToken cancellationToken)
    {
        var fetch = new IndexItemsFetch(selected, attributes);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var (length, pending) = (0, 0L);
            foreach (var index in indexes)
            {
                if (selected.Message(selected.Uids[index]) is not { } message)
                {
                    continue; // Expunged by another session; its EXPUNGE is reported after this command.
                }
                var response = fetch.Format(message, index, buffer.AsSpan(length));
                if (response < 0)
                {
                    session.Write(buffer.AsSpan(0, length));
                    pending += length;
                    length = 0;
                    response = fetch.Format(message, index, buffer);
                    if (response < 0)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(fetch.Measure(message));
                        response = fetch.Format(message, index, buffer);
                    }
                }
                length += response;
                if (length >= ChunkBytes / 2)
                {
                    session.Write(buffer.AsSpan(0, length));
                    pending += length;
                    length = 0;
                }
                if (pending > FlushThreshold)
                {
                    pending = 0;
                    if (!await session.FlushAsync(cancellationToken))
                    {
                        return false;
                    }
                }
            }
            session.Write(buffer.AsSpan(0, length));
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>An upper bound of one response's length.</summary>
    private int Measure(MaildirMessage message) => 128 + (_attributes.Count * 64) + FlagList(message).Length;

    /// <summary>Writes <c>* n FETCH (…)\r\n</c> into <paramref name="output"/>: its length, or -1 when it does not fit.</summary>
    private int Format(MaildirMessage message, int index, Span<byte> output)
    {
        var writer = new SpanWriter(output);
        writer.Bytes("* "u8);
        writer.Number(index + 1);
        writer.Bytes(" FETCH ("u8);
        for (var i = 0; i < _attributes.Count; i++)
        {
            if (i > 0)
            {
                writer.Bytes(" "u8);
            }
            switch (_attributes[i].Kind)
            {
                case FetchKind.Flags:
                    writer.Bytes("FLAGS "u8);
                    writer.Bytes(FlagList(message));
                    break;
                case FetchKind.Uid:
                    writer.Bytes("UID "u8);
                    writer.Number(message.Uid);
                    break;
                case FetchKind.Rfc822Size:
                    writer.Bytes("RFC822.SIZE "u8);
                    writer.Number(message.Size);
                    break;
                case FetchKind.ModSeq:
                    writer.Bytes("MODSEQ ("u8);
                    writer.Number((long)message.ModSeq);
                    writer.Bytes(")"u8);
                    break;
                default:
                    writer.Bytes("INTERNALDATE \""u8);
                    writer.Bytes(Encoding.ASCII.GetBytes(ImapReader.FormatDateTime(message.InternalDate)));
                    writer.Bytes("\""u8);
                    break;
            }
        }
        writer.Bytes(")\r\n"u8);
        return writer.Overflowed ? -1 : writer.Length;
    }

    /// <summary>The message's flag list as <see cref="SelectedFolder.FlagsOf"/> gives it, encoded once per distinct list.</summary>
    private byte[] FlagList(MaildirMessage message)
    {
        var key = (message.Flags, message.OtherLetters, _selected.IsRecent(message.Uid));
        if (!_flagLists.TryGetValue(key, out var bytes))
        {
            bytes = Encoding.UTF8.GetBytes(_selected.FlagsOf(message));
            _flagLists[key] = bytes;
        }
        return bytes;
    }

    /// <summary>Appends to a span, remembering when something did not fit.</summary>
    private ref struct SpanWriter(Span<byte> output)
    {
        private readonly Span<byte> _output = output;

        public int Length { get; private set; }

        public bool Overflowed { get; private set; }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            if (!bytes.TryCopyTo(_output[Length..]))
            {
                Overflowed = true;
                return;
            }
            Length += bytes.Length;
        }

        public void Number(long value)
        {
            if (!value.TryFormat(_output[Length..], out var written, default, CultureInfo.InvariantCulture))
            {
                Overflowed = true;
                return;
            }
            Length += written;
        }
    }
}
