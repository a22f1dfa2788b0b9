using System.Globalization;
using System.Text;

namespace MailAuth.Server.Imap.Parsing;

/// <summary>
/// An IMAP URL naming a message or a part of it in one of the user's own folders, as CATENATE takes
/// them (RFC 4469 §5, RFC 5092 §6): the relative form
/// <c>/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]</c>. Absolute URLs (another
/// server or user) and URLAUTH are not taken: CATENATE answers them with [BADURL].
/// </summary>
internal sealed record ImapUrl(string Mailbox, uint? UidValidity, uint Uid, BodySection? Section, long? PartialOffset, long? PartialLength)
{
    /// <summary>The URL, or null when it is not of that form.</summary>
    public static ImapUrl? Parse(string url)
    {
        if (url.Length < 2 || url[0] != '/' || url[1] == '/')
        {
            return null;
        }
        var uidAt = url.IndexOf("/;UID=", StringComparison.OrdinalIgnoreCase);
        if (uidAt < 0)
        {
            return null;
        }
        var mailbox = url[1..uidAt];
        uint? validity = null;
        var validityAt = mailbox.LastIndexOf(";UIDVALIDITY=", StringComparison.OrdinalIgnoreCase);
        if (validityAt >= 0)
        {
            if (!TryNumber(mailbox[(validityAt + ";UIDVALIDITY=".Length)..], out var value))
            {
                return null;
            }
            validity = value;
            mailbox = mailbox[..validityAt];
        }
        var name = PercentDecode(mailbox);
        var pieces = url[(uidAt + "/;UID=".Length)..].Split("/;");
        if (name is not { Length: > 0 } || !TryNumber(pieces[0], out var uid))
        {
            return null;
        }
        BodySection? section = null;
        long? offset = null;
        long? length = null;
        foreach (var piece in pieces.Skip(1))
        {
            if (piece.StartsWith("SECTION=", StringComparison.OrdinalIgnoreCase) && section is null && offset is null
                && PercentDecode(piece["SECTION=".Length..]) is { Length: > 0 } text && ParseSection(text) is { } parsed)
            {
                section = parsed;
            }
            else if (piece.StartsWith("PARTIAL=", StringComparison.OrdinalIgnoreCase) && offset is null
                && ParsePartial(piece["PARTIAL=".Length..]) is { } partial)
            {
                (offset, length) = partial;
            }
            else
            {
                return null;
            }
        }
        return new ImapUrl(name.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? "INBOX" : name, validity, uid, section, offset, length);
    }

    /// <summary>A section as FETCH BODY[…] takes it (enc-section, RFC 5092 §6).</summary>
    private static BodySection? ParseSection(string text)
    {
        try
        {
            using var command = ImapCommandText.FromLine("BODY.PEEK[" + text + "]");
            var reader = new ImapReader(command);
            var attribute = FetchAttribute.Parse(reader);
            return reader.AtEnd && attribute.PartialOffset is null ? attribute.Section : null;
        }
        catch (ImapSyntaxException)
        {
            return null;
        }
    }

    /// <summary>partial-range: <c>offset["." length]</c>, the length not 0.</summary>
    private static (long, long?)? ParsePartial(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (!long.TryParse(dot < 0 ? text : text[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return null;
        }
        if (dot < 0)
        {
            return (offset, null);
        }
        return long.TryParse(text[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var length) && length > 0
            ? (offset, length)
            : null;
    }

    private static bool TryNumber(string text, out uint value) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;

    /// <summary>%XX escapes of UTF-8 (RFC 5092 §3); null when one is malformed or the result is not UTF-8.</summary>
    private static string? PercentDecode(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%')
            {
                if (i + 2 >= text.Length || !byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
                {
                    return null;
                }
                bytes.Add(b);
                i += 2;
            }
            else if (text[i] is > ' ' and < '\x7f')
            {
                bytes.Add((byte)text[i]);
            }
            else
            {
                return null;
            }
        }
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
