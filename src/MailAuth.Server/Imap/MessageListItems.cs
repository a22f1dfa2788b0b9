using System.Buffers.Binary;
using System.Collections.Frozen;
using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// What the folder's <see cref="HeaderCache"/> keeps of a message, made from the parsed message and
/// read back: the Header record is the ENVELOPE as sent and the header fields mail clients list
/// (raw lines, in the message's order, so that HEADER.FIELDS and SEARCH see exactly what the file
/// has); the Structure record is BODYSTRUCTURE and BODY as sent. A message whose header is too long
/// for the parser to keep whole, or whose listed fields would not read back as the same fields, is
/// not cached (it is read from its file each time, as without the cache).
/// </summary>
internal static class MessageListItems
{
    /// <summary>
    /// The envelope's fields, and those Thunderbird, Apple Mail and Outlook ask for in
    /// BODY.PEEK[HEADER.FIELDS (…)] when they list a folder.
    /// </summary>
    public static readonly FrozenSet<string> Fields = new[]
    {
        "Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "In-Reply-To", "Message-ID",
        "References", "Newsgroups", "Content-Type", "Priority", "X-Priority", "Importance", "X-MSMail-Priority",
        "List-Post", "List-Id", "List-Unsubscribe", "X-Uniform-Type-Identifier", "X-Universally-Unique-Identifier",
        "Content-Class", "Disposition-Notification-To", "Return-Receipt-To", "X-Mailer", "User-Agent", "Thread-Index", "Thread-Topic",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary><see cref="MimeEntity"/> keeps this much header text; a longer header is not cached.</summary>
    private const int MaxHeaderBytes = 256 * 1024;

    public static bool Covers(string field) => Fields.Contains(field);

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

    /// <summary>The Header record's payload: the ENVELOPE's length and bytes, then the listed fields' lines and an empty line; null when not cacheable.</summary>
    public static byte[]? HeaderPayload(MimeEntity message)
    {
        if (message.BodyStart - message.Start >= MaxHeaderBytes)
        {
            return null;
        }
        var envelope = new ImapResponseBuilder();
        MessageFormatter.Envelope(envelope, message);
        var payload = new MemoryStream();
        payload.Write(stackalloc byte[4]);
        payload.Write(envelope.ToArray());
        var envelopeLength = (int)payload.Length - 4;
        foreach (var header in message.Headers)
        {
            if (!Covers(header.Name))
            {
                continue;
            }
            var raw = message.Source.Read(header.Start, header.End);
            if (raw.Length == 0 || raw[0] is (byte)' ' or (byte)'\t')
            {
                return null; // it would read back as a continuation of the field before it
            }
            payload.Write(raw);
            if (raw[^1] != '\n')
            {
                payload.Write("\r\n"u8);
            }
        }
        payload.Write("\r\n"u8);
        var bytes = payload.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(bytes, envelopeLength);
        return bytes;
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

    /// <summary>A payload's two items (ENVELOPE and fields, or BODYSTRUCTURE and BODY); null when it is not one.</summary>
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

    /// <summary>The cached fields as a parsed header (for HEADER.FIELDS and SEARCH).</summary>
    public static MimeEntity ParseFields(ReadOnlyMemory<byte> fields) => MimeEntity.Parse(fields.ToArray());
}
