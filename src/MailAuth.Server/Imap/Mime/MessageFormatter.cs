using System.Text;
using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Mime;

/// <summary>ENVELOPE, BODY/BODYSTRUCTURE and BODY[section] of a parsed message (RFC 3501 §7.4.2).</summary>
internal static class MessageFormatter
{
    public static void Envelope(ImapResponseBuilder output, MimeEntity message)
    {
        output.Append("(");
        output.NString(message.Header("Date")).Append(" ");
        output.NString(message.Header("Subject")).Append(" ");
        var from = Parse(message.Header("From"));
        Addresses(output, from).Append(" ");
        // An empty Sender or Reply-To counts as a missing one: the From addresses stand in (RFC 3501 §7.4.2).
        Addresses(output, Parse(message.Header("Sender")) is { Count: > 0 } sender ? sender : from).Append(" ");
        Addresses(output, Parse(message.Header("Reply-To")) is { Count: > 0 } replyTo ? replyTo : from).Append(" ");
        Addresses(output, Parse(message.Header("To"))).Append(" ");
        Addresses(output, Parse(message.Header("Cc"))).Append(" ");
        Addresses(output, Parse(message.Header("Bcc"))).Append(" ");
        output.NString(message.Header("In-Reply-To")).Append(" ");
        output.NString(message.Header("Message-ID")).Append(")");
    }

    private static List<EnvelopeAddress> Parse(string? value) => value is null ? [] : EnvelopeAddress.ParseList(value);

    private static ImapResponseBuilder Addresses(ImapResponseBuilder output, List<EnvelopeAddress> addresses)
    {
        if (addresses.Count == 0)
        {
            return output.Append("NIL");
        }
        output.Append("(");
        foreach (var address in addresses)
        {
            output.Append("(").NString(address.Name).Append(" ").NString(address.Route).Append(" ").NString(address.Mailbox).Append(" ").NString(address.Host).Append(")");
        }
        return output.Append(")");
    }

    /// <summary>BODYSTRUCTURE (extensible = true) or BODY (false).</summary>
    public static void Structure(ImapResponseBuilder output, MimeEntity entity, bool extensible)
    {
        if (entity.IsMultipart && entity.Parts.Count > 0)
        {
            output.Append("(");
            foreach (var part in entity.Parts)
            {
                Structure(output, part, extensible);
            }
            output.Append(" ").NString(entity.MediaSubtype.ToUpperInvariant());
            if (extensible)
            {
                output.Append(" ");
                Parameters(output, entity.Parameters);
                output.Append(" ");
                Extensions(output, entity);
            }
            output.Append(")");
            return;
        }
        output.Append("(").NString(entity.MediaType.ToUpperInvariant()).Append(" ").NString(entity.MediaSubtype.ToUpperInvariant()).Append(" ");
        var parameters = entity.Parameters;
        if (entity.MediaType == "text" && entity.Parameter("charset") is null && entity.Header("Content-Type") is null)
        {
            parameters = [KeyValuePair.Create("charset", "us-ascii")];
        }
        Parameters(output, parameters);
        output.Append(" ").NString(entity.Header("Content-ID"));
        output.Append(" ").NString(entity.Header("Content-Description"));
        output.Append(" ").NString((entity.Header("Content-Transfer-Encoding") ?? "7bit").ToUpperInvariant());
        output.Append(" ").Append(ImapFormat.Number(entity.BodyLength));
        if (entity.IsMessage && entity.Message is { } inner)
        {
            output.Append(" ");
            Envelope(output, inner);
            output.Append(" ");
            Structure(output, inner, extensible);
            output.Append(" ").Append(ImapFormat.Number(entity.BodyLines));
        }
        else if (entity.MediaType == "text")
        {
            output.Append(" ").Append(ImapFormat.Number(entity.BodyLines));
        }
        if (extensible)
        {
            output.Append(" ").NString(entity.Header("Content-MD5")).Append(" ");
            Extensions(output, entity);
        }
        output.Append(")");
    }

    /// <summary>body-fld-dsp body-fld-lang body-fld-loc.</summary>
    private static void Extensions(ImapResponseBuilder output, MimeEntity entity)
    {
        if (MimeEntity.ParseDisposition(entity.Header("Content-Disposition")) is var (kind, parameters))
        {
            output.Append("(").NString(kind.ToUpperInvariant()).Append(" ");
            Parameters(output, parameters);
            output.Append(")");
        }
        else
        {
            output.Append("NIL");
        }
        var language = entity.Header("Content-Language");
        output.Append(" ").NString(language?.Trim());
        output.Append(" ").NString(entity.Header("Content-Location"));
    }

    private static void Parameters(ImapResponseBuilder output, List<KeyValuePair<string, string>> parameters)
    {
        if (parameters.Count == 0)
        {
            output.Append("NIL");
            return;
        }
        output.Append("(");
        var first = true;
        foreach (var (name, value) in parameters)
        {
            if (!first)
            {
                output.Append(" ");
            }
            first = false;
            output.NString(name.ToUpperInvariant()).Append(" ").NString(value);
        }
        output.Append(")");
    }

    /// <summary>The bytes a section names, as bytes; for small sections (tests).</summary>
    public static byte[] Section(MimeEntity message, BodySection section) => Locate(message, section).ToArray(message.Source);

    /// <summary>Where the bytes a section names are, or empty when the message has no such part (RFC 3501 allows an empty string).</summary>
    public static SectionContent Locate(MimeEntity message, BodySection section)
    {
        if (Part(message, section.Part) is not { } entity)
        {
            return SectionContent.Empty;
        }
        if (section.Text == SectionText.Mime)
        {
            return SectionContent.Range(entity.Start, entity.BodyStart);
        }
        if (section.Text == SectionText.All)
        {
            return section.Part.Count == 0
                ? SectionContent.Range(entity.Start, entity.End)
                : SectionContent.Range(entity.BodyStart, entity.End);
        }
        // HEADER, HEADER.FIELDS and TEXT of a part apply to the message inside a message/rfc822 part.
        if (section.Part.Count > 0)
        {
            if (!entity.IsMessage || entity.Message is null)
            {
                return SectionContent.Empty;
            }
            entity = entity.Message;
        }
        return section.Text switch
        {
            SectionText.Header => SectionContent.Range(entity.Start, entity.BodyStart),
            SectionText.Text => SectionContent.Range(entity.BodyStart, entity.End),
            _ => HeaderFields(entity, section.Fields, section.Text == SectionText.HeaderFieldsNot),
        };
    }

    /// <summary>The entity a part number names (RFC 3501 §6.4.5), or null when there is none.</summary>
    public static MimeEntity? Part(MimeEntity message, IReadOnlyList<int> part)
    {
        var entity = message;
        for (var i = 0; i < part.Count; i++)
        {
            if (i > 0 && entity.IsMessage && entity.Message is { } inner)
            {
                entity = inner;
            }
            var number = part[i];
            if (entity.IsMultipart && entity.Parts.Count > 0)
            {
                if (number > entity.Parts.Count)
                {
                    return null;
                }
                entity = entity.Parts[number - 1];
            }
            else if (number != 1)
            {
                return null;
            }
        }
        return entity;
    }

    private static SectionContent HeaderFields(MimeEntity entity, IReadOnlyList<string> fields, bool exclude)
    {
        var pieces = new List<SectionPiece>();
        foreach (var header in entity.Headers)
        {
            var named = fields.Any(f => f.Equals(header.Name, StringComparison.OrdinalIgnoreCase));
            if (named != exclude)
            {
                pieces.Add(SectionPiece.Range(header.Start, header.End));
                if (entity.Source[header.End - 1] != '\n')
                {
                    pieces.Add(SectionPiece.Made("\r\n"u8.ToArray()));
                }
            }
        }
        pieces.Add(SectionPiece.Made("\r\n"u8.ToArray()));
        return new SectionContent(pieces);
    }

    /// <summary>The (start, length) a partial names within <paramref name="total"/> bytes.</summary>
    public static (long Start, long Length) PartialRange(long total, long? offset, long? length)
    {
        if (offset is null)
        {
            return (0, total);
        }
        if (offset.Value >= total)
        {
            return (total, 0);
        }
        return (offset.Value, Math.Min(length ?? long.MaxValue, total - offset.Value));
    }

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Header values as text for SEARCH: Latin-1 bytes re-read as UTF-8 (RFC 6532), or left as
    /// Latin-1 when they are not UTF-8 (raw 8-bit headers of old mailers), and MIME encoded-words
    /// (RFC 2047) decoded.
    /// </summary>
    public static string SearchableText(string latin1)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(Encoding.Latin1.GetBytes(latin1));
        }
        catch (DecoderFallbackException)
        {
            text = latin1;
        }
        return EncodedWords.Decode(text);
    }
}
