using System.Buffers.Binary;
using System.Collections.Frozen;
using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// What the folder's <see cref="HeaderCache"/> keeps of a message, made from the parsed message and
/// read back: the Header record is the ENVELOPE as sent, the header fields mail clients list (raw
/// lines, in the message's order, so that HEADER.FIELDS sees exactly what the file has) and their
/// search-ready text; the Structure record is BODYSTRUCTURE and BODY as sent. A message whose header is too long
/// for the parser to keep whole, or whose listed fields would not read back as the same fields, is
/// not cached (it is read from its file each time, as without the cache).
/// </summary>
internal static class MessageListItems
{
    /// <summary>
    /// The envelope's fields, and those Thunderbird, Apple Mail and Outlook ask for in
    /// BODY.PEEK[HEADER.FIELDS (…)] when they list a folder. A field's position here is its number
    /// in the Header record (at most 64): adding a field goes at the end, and any change to this
    /// list needs a new <see cref="HeaderCache"/> format version.
    /// </summary>
    private static readonly string[] FieldOrder =
    [
        "Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "In-Reply-To", "Message-ID",
        "References", "Newsgroups", "Content-Type", "Priority", "X-Priority", "Importance", "X-MSMail-Priority",
        "List-Post", "List-Id", "List-Unsubscribe", "X-Uniform-Type-Identifier", "X-Universally-Unique-Identifier",
        "Content-Class", "Disposition-Notification-To", "Return-Receipt-To", "X-Mailer", "User-Agent", "Thread-Index", "Thread-Topic",
    ];

    private static readonly FrozenDictionary<string, int> FieldNumbers =
        FieldOrder.Select((name, number) => (name, number)).ToFrozenDictionary(f => f.name, f => f.number, StringComparer.OrdinalIgnoreCase);

    /// <summary><see cref="MimeEntity"/> keeps this much header text; a longer header is not cached.</summary>
    private const int MaxHeaderBytes = 256 * 1024;

    public static bool Covers(string field) => FieldNumbers.ContainsKey(field);

    /// <summary>The field's number in the Header record, or -1 when the cache does not keep it.</summary>
    public static int NumberOf(string field) => FieldNumbers.TryGetValue(field, out var number) ? number : -1;

    public static bool CoversAll(IReadOnlyList<string> fields)
    {
        foreach (var field in fields)
        {
            if (!Covers(field))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The fields of a HEADER.FIELDS list as a set of field numbers (all of them covered).</summary>
    public static ulong MaskOf(IReadOnlyList<string> fields)
    {
        var mask = 0UL;
        foreach (var field in fields)
        {
            mask |= 1UL << NumberOf(field);
        }
        return mask;
    }

    /// <summary>
    /// The Header record's payload (<see cref="CachedHeader"/> reads it): the ENVELOPE as sent; the
    /// listed fields' lines as the message has them, each ending in a line break, and the empty line;
    /// each line's field number and length; the search-ready text of those fields
    /// (<see cref="HeaderSearchText"/>). Null when not cacheable.
    /// </summary>
    public static byte[]? HeaderPayload(MimeEntity message)
    {
        if (message.BodyStart - message.Start >= MaxHeaderBytes)
        {
            return null;
        }
        var envelope = new ImapResponseBuilder();
        MessageFormatter.Envelope(envelope, message);
        var lines = new MemoryStream();
        var lineIndex = new MemoryStream();
        var lineCount = 0;
        Span<byte> entry = stackalloc byte[5];
        foreach (var header in message.Headers)
        {
            var number = NumberOf(header.Name);
            if (number < 0)
            {
                continue;
            }
            var raw = message.Source.Read(header.Start, header.End);
            if (raw.Length == 0 || raw[0] is (byte)' ' or (byte)'\t')
            {
                return null; // it would read back as a continuation of the field before it
            }
            var start = lines.Length;
            lines.Write(raw);
            if (raw[^1] != '\n')
            {
                lines.Write("\r\n"u8); // as HEADER.FIELDS from the file adds it (MessageFormatter.Locate)
            }
            entry[0] = (byte)number;
            BinaryPrimitives.WriteInt32LittleEndian(entry[1..], (int)(lines.Length - start));
            lineIndex.Write(entry);
            lineCount++;
        }
        lines.Write("\r\n"u8);
        if (lineCount > ushort.MaxValue)
        {
            return null;
        }
        var payload = new MemoryStream();
        Span<byte> number32 = stackalloc byte[4];
        var envelopeBytes = envelope.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(number32, envelopeBytes.Length);
        payload.Write(number32);
        payload.Write(envelopeBytes);
        BinaryPrimitives.WriteInt32LittleEndian(number32, (int)lines.Length);
        payload.Write(number32);
        payload.Write(lines.GetBuffer().AsSpan(0, (int)lines.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(number32, (ushort)lineCount);
        payload.Write(number32[..2]);
        payload.Write(lineIndex.GetBuffer().AsSpan(0, (int)lineIndex.Length));
        HeaderSearchText.Write(payload, message);
        return payload.ToArray();
    }

    /// <summary>The Structure record's payload: BODYSTRUCTURE's length and bytes, then BODY's.</summary>
    public static byte[] StructurePayload(MimeEntity message)
    {
        var extensible = new ImapResponseBuilder();
        MessageFormatter.Structure(extensible, message, extensible: true);
        var plain = new ImapResponseBuilder();
        MessageFormatter.Structure(plain, message, extensible: false);
        var first = extensible.ToArray();
        var second = plain.ToArray();
        var bytes = new byte[4 + first.Length + second.Length];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, first.Length);
        first.CopyTo(bytes, 4);
        second.CopyTo(bytes, 4 + first.Length);
        return bytes;
    }

    /// <summary>A Structure payload's two items (BODYSTRUCTURE and BODY); null when it is not one.</summary>
    public static (ReadOnlyMemory<byte> First, ReadOnlyMemory<byte> Second)? Split(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length < 4)
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32LittleEndian(payload.Span);
        if (length < 0 || length > payload.Length - 4)
        {
            return null;
        }
        return (payload.Slice(4, length), payload[(4 + length)..]);
    }

    /// <summary>The cached fields as a parsed header (for SORT and THREAD).</summary>
    public static MimeEntity ParseFields(ReadOnlyMemory<byte> fields) => MimeEntity.Parse(fields.ToArray());
}
