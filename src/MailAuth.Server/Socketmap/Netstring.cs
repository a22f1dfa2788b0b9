using System.Buffers;
using System.Globalization;
using System.Text;

namespace MailAuth.Server.Socketmap;

internal enum NetstringStatus
{
    /// <summary>A whole netstring was taken from the buffer.</summary>
    Complete,

    /// <summary>More bytes are needed; nothing was taken.</summary>
    Incomplete,

    /// <summary>Not a netstring, or longer than allowed: the stream cannot be followed any further.</summary>
    Malformed,
}

/// <summary>
/// Netstrings (<c>length ":" bytes ","</c>, D. J. Bernstein), the framing of Postfix's socketmap
/// protocol (socketmap_table(5)). The announced length is checked against the limit before any
/// of the payload is waited for, so a peer can never make us buffer more than one allowed request.
/// </summary>
internal static class Netstring
{
    /// <summary>Digits of the longest length we accept: 9 digits already mean more than any limit.</summary>
    private const int MaxLengthDigits = 9;

    public static NetstringStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxLength, out byte[] payload)
    {
        payload = [];
        var reader = new SequenceReader<byte>(buffer);
        long length = 0;
        var digits = 0;
        while (true)
        {
            if (!reader.TryRead(out var b))
            {
                return NetstringStatus.Incomplete;
            }
            if (b == (byte)':' && digits > 0)
            {
                break;
            }
            if (!char.IsAsciiDigit((char)b) || ++digits > MaxLengthDigits)
            {
                return NetstringStatus.Malformed;
            }
            length = length * 10 + (b - '0');
            if (length > maxLength)
            {
                return NetstringStatus.Malformed;
            }
        }
        if (reader.Remaining < length + 1)
        {
            return NetstringStatus.Incomplete;
        }
        payload = new byte[length];
        reader.TryCopyTo(payload);
        reader.Advance(length);
        reader.TryRead(out var comma);
        if (comma != (byte)',')
        {
            return NetstringStatus.Malformed;
        }
        buffer = buffer.Slice(reader.Position);
        return NetstringStatus.Complete;
    }

    public static byte[] Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var prefix = Encoding.ASCII.GetBytes(bytes.Length.ToString(CultureInfo.InvariantCulture) + ":");
        return [.. prefix, .. bytes, (byte)','];
    }
}
