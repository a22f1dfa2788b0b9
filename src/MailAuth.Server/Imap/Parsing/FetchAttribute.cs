using System.Globalization;
using System.Text;

namespace MailAuth.Server.Imap.Parsing;

internal enum FetchKind
{
    Flags,
    Uid,
    InternalDate,
    Rfc822Size,
    Envelope,
    BodyStructure,

    /// <summary>BODY without a section: the non-extensible BODYSTRUCTURE.</summary>
    Body,

    /// <summary>BODY[section]&lt;partial&gt; and BODY.PEEK[…].</summary>
    Section,
    Rfc822,
    Rfc822Header,
    Rfc822Text,

    /// <summary>BINARY[part]&lt;partial&gt; and BINARY.PEEK[…] (RFC 3516): the content with its transfer encoding undone.</summary>
    Binary,

    /// <summary>BINARY.SIZE[part] (RFC 3516): the size of that decoded content.</summary>
    BinarySize,

    /// <summary>MODSEQ (RFC 7162 §3.1.4.1).</summary>
    ModSeq,
}

internal enum SectionText
{
    /// <summary>The whole part (or message), headers included for the message.</summary>
    All,
    Header,
    HeaderFields,
    HeaderFieldsNot,
    Text,
    Mime,
}

/// <summary>section-spec (RFC 3501 §6.4.5): part numbers and what of the part.</summary>
internal sealed record BodySection(IReadOnlyList<int> Part, SectionText Text, IReadOnlyList<string> Fields)
{
    /// <summary>The section as echoed in the response: <c>1.HEADER.FIELDS (FROM TO)</c>.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder(string.Join('.', Part.Select(p => p.ToString(CultureInfo.InvariantCulture))));
        if (Text != SectionText.All)
        {
            if (builder.Length > 0)
            {
                builder.Append('.');
            }
            builder.Append(Text switch
            {
                SectionText.Header => "HEADER",
                SectionText.HeaderFields => "HEADER.FIELDS",
                SectionText.HeaderFieldsNot => "HEADER.FIELDS.NOT",
                SectionText.Text => "TEXT",
                _ => "MIME",
            });
        }
        if (Text is SectionText.HeaderFields or SectionText.HeaderFieldsNot)
        {
            builder.Append(" (").Append(string.Join(' ', Fields.Select(ImapFormat.AString))).Append(')');
        }
        return builder.ToString();
    }
}

internal sealed record FetchAttribute(FetchKind Kind, BodySection? Section = null, bool Peek = false, long? PartialOffset = null, long? PartialLength = null)
{
    /// <summary>Whether fetching this marks the message \Seen (RFC 3501 §6.4.5).</summary>
    public bool SetsSeen => Kind is FetchKind.Rfc822 or FetchKind.Rfc822Text || (Kind is FetchKind.Section or FetchKind.Binary && !Peek);

    /// <summary>Parses the fetch-att list after <c>FETCH set SP</c>: a macro, one attribute or a parenthesised list.</summary>
    public static List<FetchAttribute> ParseList(ImapReader reader)
    {
        var attributes = new List<FetchAttribute>();
        if (reader.TryConsume('('))
        {
            do
            {
                attributes.Add(Parse(reader));
            }
            while (reader.TryConsume(' '));
            reader.Expect(')');
            return attributes;
        }
        if (reader.TryConsumeWord("ALL"))
        {
            return [new(FetchKind.Flags), new(FetchKind.InternalDate), new(FetchKind.Rfc822Size), new(FetchKind.Envelope)];
        }
        if (reader.TryConsumeWord("FAST"))
        {
            return [new(FetchKind.Flags), new(FetchKind.InternalDate), new(FetchKind.Rfc822Size)];
        }
        if (reader.TryConsumeWord("FULL"))
        {
            return [new(FetchKind.Flags), new(FetchKind.InternalDate), new(FetchKind.Rfc822Size), new(FetchKind.Envelope), new(FetchKind.Body)];
        }
        attributes.Add(Parse(reader));
        return attributes;
    }

    public static FetchAttribute Parse(ImapReader reader)
    {
        // Longest names first: RFC822.SIZE before RFC822, BODY.PEEK[ and BODYSTRUCTURE before BODY.
        if (reader.TryConsumeWord("BODY.PEEK["))
        {
            return ParseSection(reader, peek: true);
        }
        if (reader.TryConsumeWord("BODY["))
        {
            return ParseSection(reader, peek: false);
        }
        if (reader.TryConsumeWord("BINARY.PEEK["))
        {
            return ParseBinary(reader, FetchKind.Binary, peek: true);
        }
        if (reader.TryConsumeWord("BINARY.SIZE["))
        {
            return ParseBinary(reader, FetchKind.BinarySize, peek: true);
        }
        if (reader.TryConsumeWord("BINARY["))
        {
            return ParseBinary(reader, FetchKind.Binary, peek: false);
        }
        var name = reader.ReadWhile(c => ImapReader.IsAtomChar(c) && c != '[').ToUpperInvariant();
        return name switch
        {
            "FLAGS" => new(FetchKind.Flags),
            "UID" => new(FetchKind.Uid),
            "INTERNALDATE" => new(FetchKind.InternalDate),
            "RFC822.SIZE" => new(FetchKind.Rfc822Size),
            "ENVELOPE" => new(FetchKind.Envelope),
            "BODYSTRUCTURE" => new(FetchKind.BodyStructure),
            "BODY" => new(FetchKind.Body),
            "RFC822" => new(FetchKind.Rfc822),
            "RFC822.HEADER" => new(FetchKind.Rfc822Header),
            "RFC822.TEXT" => new(FetchKind.Rfc822Text),
            "MODSEQ" => new(FetchKind.ModSeq),
            "" => throw new ImapSyntaxException("expected a fetch attribute"),
            _ => throw new ImapSyntaxException($"unknown fetch attribute '{name}'"),
        };
    }

    /// <summary>section-binary (RFC 3516 §6): part numbers only, then a partial except for BINARY.SIZE.</summary>
    private static FetchAttribute ParseBinary(ImapReader reader, FetchKind kind, bool peek)
    {
        var part = ParsePart(reader);
        reader.Expect(']');
        var (offset, length) = kind == FetchKind.Binary ? ParsePartial(reader) : (null, null);
        return new FetchAttribute(kind, new BodySection(part, SectionText.All, []), peek, offset, length);
    }

    private static List<int> ParsePart(ImapReader reader)
    {
        var part = new List<int>();
        while (reader.Peek() is >= '1' and <= '9')
        {
            var number = reader.ReadNumber();
            if (number > 100_000)
            {
                throw new ImapSyntaxException("section part number too large");
            }
            part.Add((int)number);
            if (!reader.TryConsume('.'))
            {
                break;
            }
        }
        return part;
    }

    private static (long? Offset, long? Length) ParsePartial(ImapReader reader)
    {
        if (!reader.TryConsume('<'))
        {
            return (null, null);
        }
        var offset = reader.ReadNumber();
        reader.Expect('.');
        var length = reader.ReadNumber();
        if (length == 0)
        {
            throw new ImapSyntaxException("a partial length must not be 0");
        }
        reader.Expect('>');
        return (offset, length);
    }

    private static FetchAttribute ParseSection(ImapReader reader, bool peek)
    {
        var part = ParsePart(reader);
        var text = SectionText.All;
        var fields = new List<string>();
        if (!reader.PeekIs(']'))
        {
            var word = reader.ReadWhile(c => char.IsAsciiLetter((char)c) || c == '.').ToUpperInvariant();
            text = word switch
            {
                "HEADER" => SectionText.Header,
                "HEADER.FIELDS" => SectionText.HeaderFields,
                "HEADER.FIELDS.NOT" => SectionText.HeaderFieldsNot,
                "TEXT" => SectionText.Text,
                "MIME" when part.Count > 0 => SectionText.Mime,
                _ => throw new ImapSyntaxException($"invalid section '{word}'"),
            };
            if (text is SectionText.HeaderFields or SectionText.HeaderFieldsNot)
            {
                reader.ExpectSpace();
                reader.Expect('(');
                do
                {
                    fields.Add(reader.ReadAString());
                }
                while (reader.TryConsume(' '));
                reader.Expect(')');
            }
        }
        reader.Expect(']');
        var (offset, length) = ParsePartial(reader);
        return new FetchAttribute(FetchKind.Section, new BodySection(part, text, fields), peek, offset, length);
    }
}
