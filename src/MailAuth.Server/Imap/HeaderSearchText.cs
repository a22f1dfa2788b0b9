using System.Buffers.Binary;
using System.Text;
using MailAuth.Server.Imap.Mime;

namespace MailAuth.Server.Imap;

/// <summary>
/// The cached fields as SEARCH compares them, made once when a message is cached, so that a header
/// SEARCH decodes nothing per message: each field's value decoded (RFC 2047, 8-bit text as UTF-8)
/// and upper-cased with <see cref="string.ToUpperInvariant()"/>, the case folding every SEARCH
/// string key uses on both sides (RFC 9051 §6.4.4: matching is case-insensitive), as UTF-8; for
/// From, To, Cc and Bcc also each address and display name, comments removed; the first Date's day
/// for SENTBEFORE/ON/SINCE. Entries are <c>kind | field number | length | bytes</c>; a substring of
/// UTF-8 text is a substring of the same text as characters, so the bytes are compared as they are.
/// </summary>
internal static class HeaderSearchText
{
    private const byte Value = (byte)'V';
    private const byte Address = (byte)'A';
    private const byte SentDay = (byte)'D';

    /// <summary>Kind (1), field number (1), length (4).</summary>
    private const int EntryHeaderBytes = 6;

    private static readonly int DateField = MessageListItems.NumberOf("Date");

    /// <summary>Appends the entries of the cached fields of <paramref name="message"/>.</summary>
    public static void Write(Stream output, MimeEntity message)
    {
        foreach (var header in message.Headers)
        {
            var number = MessageListItems.NumberOf(header.Name);
            if (number < 0)
            {
                continue;
            }
            WriteEntry(output, Value, number, Fold(header.Value));
            if (IsAddressField(header.Name))
            {
                foreach (var address in EnvelopeAddress.ParseList(header.Value))
                {
                    foreach (var text in (ReadOnlySpan<string?>)[address.Address ?? address.Mailbox, address.Name])
                    {
                        if (text is not null)
                        {
                            WriteEntry(output, Address, number, Fold(text));
                        }
                    }
                }
            }
        }
        if (message.Header("Date") is { } date && Rfc5322Date.TryParse(date, out var sent))
        {
            // The date as written, in the sender's zone, as SearchCandidate compares it.
            Span<byte> day = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(day, DateOnly.FromDateTime(sent.DateTime).DayNumber);
            WriteEntry(output, SentDay, DateField, day);
        }
    }

    /// <summary>FROM, TO, CC and BCC also match the parsed addresses and display names (SearchKey's <c>Addresses</c>).</summary>
    public static bool IsAddressField(string name) =>
        name.Equals("From", StringComparison.OrdinalIgnoreCase) || name.Equals("To", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Cc", StringComparison.OrdinalIgnoreCase) || name.Equals("Bcc", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether a header key matches, exactly as SearchCandidate does on the parsed header: some value
    /// of the field holds the folded string; or, for an address key, some address or display name
    /// of it does; or the string is empty and the message has the field (RFC 3501 §6.4.4).
    /// </summary>
    public static bool Matches(ReadOnlySpan<byte> entries, int field, ReadOnlySpan<byte> folded, bool addresses)
    {
        var found = false;
        for (var at = 0; at + EntryHeaderBytes <= entries.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(entries[(at + 2)..]);
            if (entries[at] == Value && entries[at + 1] == field)
            {
                found = true;
                if (entries.Slice(at + EntryHeaderBytes, length).IndexOf(folded) >= 0)
                {
                    return true;
                }
            }
            at += EntryHeaderBytes + length;
        }
        if (!found || !addresses)
        {
            return found && folded.Length == 0;
        }
        for (var at = 0; at + EntryHeaderBytes <= entries.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(entries[(at + 2)..]);
            if (entries[at] == Address && entries[at + 1] == field && entries.Slice(at + EntryHeaderBytes, length).IndexOf(folded) >= 0)
            {
                return true;
            }
            at += EntryHeaderBytes + length;
        }
        return folded.Length == 0;
    }

    /// <summary>The day of the message's first Date field, when it has one that parses.</summary>
    public static DateOnly? Sent(ReadOnlySpan<byte> entries)
    {
        for (var at = 0; at + EntryHeaderBytes <= entries.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(entries[(at + 2)..]);
            if (entries[at] == SentDay && length == 4)
            {
                return DateOnly.FromDayNumber(BinaryPrimitives.ReadInt32LittleEndian(entries[(at + EntryHeaderBytes)..]));
            }
            at += EntryHeaderBytes + length;
        }
        return null;
    }

    /// <summary>Whether the entries are whole (a record that verified, but of a payload this version did not write, is refused).</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> entries)
    {
        var at = 0;
        while (at + EntryHeaderBytes <= entries.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(entries[(at + 2)..]);
            if (entries[at] is not (Value or Address or SentDay) || length < 0 || length > entries.Length - at - EntryHeaderBytes)
            {
                return false;
            }
            at += EntryHeaderBytes + length;
        }
        return at == entries.Length;
    }

    /// <summary>Text as a search compares it: decoded (RFC 2047), upper-cased, UTF-8.</summary>
    public static byte[] Fold(string latin1) => Encoding.UTF8.GetBytes(MessageFormatter.SearchableText(latin1).ToUpperInvariant());

    private static void WriteEntry(Stream output, byte kind, int field, ReadOnlySpan<byte> bytes)
    {
        Span<byte> header = stackalloc byte[EntryHeaderBytes];
        header[0] = kind;
        header[1] = (byte)field;
        BinaryPrimitives.WriteInt32LittleEndian(header[2..], bytes.Length);
        output.Write(header);
        output.Write(bytes);
    }
}
