using System.Globalization;
using System.Text;

namespace MailAuth.Server.Imap.Parsing;

/// <summary>
/// A cursor over one command's text and literals (RFC 3501 §9 formal syntax). Pure: no I/O, so
/// tests drive it with tables of inputs. Every grammar violation throws <see cref="ImapSyntaxException"/>.
/// </summary>
internal sealed class ImapReader(ImapCommandText command)
{
    private static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private int _part;
    private int _position;

    public ImapCommandText Command { get; } = command;

    /// <summary>True when every byte and literal has been consumed.</summary>
    public bool AtEnd => _part == Command.Parts.Count - 1 && _position == Command.Parts[_part].Length;

    /// <summary>True when the next thing is a literal (its <c>{n}</c> announcement).</summary>
    public bool AtLiteral => _part < Command.Literals.Count && _position == Command.LiteralStarts[_part];

    private int Limit => _part < Command.Literals.Count ? Command.LiteralStarts[_part] : Command.Parts[_part].Length;

    /// <summary>The next byte, or -1 at the end of the line or before a literal.</summary>
    public int Peek() => _position < Limit ? Command.Parts[_part][_position] : -1;

    public bool PeekIs(char c) => Peek() == c;

    public bool TryConsume(char c)
    {
        if (Peek() != c)
        {
            return false;
        }
        _position++;
        return true;
    }

    public void Expect(char c)
    {
        if (!TryConsume(c))
        {
            throw new ImapSyntaxException(c == ' ' ? "expected a space" : $"expected '{c}'");
        }
    }

    public void ExpectSpace() => Expect(' ');

    public void ExpectEnd()
    {
        if (!AtEnd)
        {
            throw new ImapSyntaxException("unexpected characters at the end of the command");
        }
    }

    /// <summary>Consumes <paramref name="word"/> (ASCII, case-insensitive) when it comes next and is not followed by more atom characters.</summary>
    public bool TryConsumeWord(string word)
    {
        var line = Command.Parts[_part];
        if (_position + word.Length > Limit)
        {
            return false;
        }
        for (var i = 0; i < word.Length; i++)
        {
            if (char.ToUpperInvariant((char)line[_position + i]) != char.ToUpperInvariant(word[i]))
            {
                return false;
            }
        }
        var next = _position + word.Length < Limit ? line[_position + word.Length] : -1;
        if (next != -1 && IsAtomChar(next) && char.IsAsciiLetterOrDigit(word[^1]))
        {
            return false;
        }
        _position += word.Length;
        return true;
    }

    /// <summary>tag: any ASTRING-CHAR except "+".</summary>
    public string ReadTag()
    {
        var tag = ReadWhile(c => IsAStringChar(c) && c != '+');
        if (tag.Length == 0)
        {
            throw new ImapSyntaxException("missing tag");
        }
        return tag;
    }

    public string ReadAtom()
    {
        var atom = ReadWhile(IsAtomChar);
        if (atom.Length == 0)
        {
            throw new ImapSyntaxException("expected an atom");
        }
        return atom;
    }

    public long ReadNumber()
    {
        var digits = ReadWhile(c => c is >= '0' and <= '9');
        if (digits.Length is 0 or > 10 || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > uint.MaxValue)
        {
            throw new ImapSyntaxException("expected a number");
        }
        return value;
    }

    /// <summary>astring: atom (with "]"), quoted string or literal, as UTF-8 text.</summary>
    public string ReadAString() => Encoding.UTF8.GetString(ReadAStringBytes());

    public byte[] ReadAStringBytes()
    {
        if (AtLiteral)
        {
            return TakeLiteral().Data ?? throw new ImapSyntaxException("a string argument is too large");
        }
        if (PeekIs('"'))
        {
            return ReadQuotedBytes();
        }
        var atom = ReadWhile(IsAStringChar);
        if (atom.Length == 0)
        {
            throw new ImapSyntaxException("expected a string");
        }
        return Encoding.ASCII.GetBytes(atom);
    }

    /// <summary>string: quoted or literal (no atom).</summary>
    public string ReadString()
    {
        if (AtLiteral)
        {
            return TakeLiteral().Text;
        }
        if (PeekIs('"'))
        {
            return Encoding.UTF8.GetString(ReadQuotedBytes());
        }
        throw new ImapSyntaxException("expected a quoted string or a literal");
    }

    /// <summary>astring or NIL.</summary>
    public string? ReadNString() => TryConsumeWord("NIL") ? null : ReadAString();

    /// <summary>Mailbox name; "INBOX" in any case means INBOX (RFC 3501 §5.1).</summary>
    public string ReadMailbox()
    {
        var name = ReadAString();
        return name.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? "INBOX" : name;
    }

    /// <summary>list-mailbox: like astring, with the wildcards % and *.</summary>
    public string ReadListMailbox()
    {
        if (AtLiteral || PeekIs('"'))
        {
            return ReadAString();
        }
        var text = ReadWhile(c => IsAStringChar(c) || c is '%' or '*');
        if (text.Length == 0)
        {
            throw new ImapSyntaxException("expected a mailbox pattern");
        }
        return text;
    }

    /// <summary>The literal that comes next; a literal8 only where <paramref name="binary"/> allows one (APPEND, RFC 3516 §4.1).</summary>
    public ImapLiteral TakeLiteral(bool binary = false)
    {
        if (!AtLiteral)
        {
            throw new ImapSyntaxException("expected a literal");
        }
        var literal = Command.Literals[_part];
        if (literal.Binary && !binary)
        {
            throw new ImapSyntaxException("a literal8 (~{n}) is only allowed for a message");
        }
        _part++;
        _position = 0;
        return literal;
    }

    public byte[] ReadQuotedBytes()
    {
        Expect('"');
        var bytes = new List<byte>();
        var line = Command.Parts[_part];
        while (true)
        {
            if (_position >= Limit)
            {
                throw new ImapSyntaxException("unterminated quoted string");
            }
            var c = line[_position++];
            if (c == '"')
            {
                return [.. bytes];
            }
            if (c == '\\')
            {
                if (_position >= Limit || line[_position] is not ((byte)'"' or (byte)'\\'))
                {
                    throw new ImapSyntaxException("only \\\" and \\\\ may be escaped in a quoted string");
                }
                c = line[_position++];
            }
            else if (c is (byte)'\r' or (byte)'\n' or 0)
            {
                throw new ImapSyntaxException("a quoted string cannot hold CR, LF or NUL");
            }
            bytes.Add(c);
        }
    }

    /// <summary>flag-list: <c>(\Seen \Deleted $Label)</c>, possibly empty.</summary>
    public List<string> ReadFlagList()
    {
        Expect('(');
        var flags = new List<string>();
        while (!TryConsume(')'))
        {
            if (flags.Count > 0)
            {
                ExpectSpace();
            }
            flags.Add(ReadFlag());
        }
        return flags;
    }

    /// <summary>A flag list with or without parentheses (STORE accepts both).</summary>
    public List<string> ReadFlags()
    {
        if (PeekIs('('))
        {
            return ReadFlagList();
        }
        var flags = new List<string> { ReadFlag() };
        while (TryConsume(' '))
        {
            flags.Add(ReadFlag());
        }
        return flags;
    }

    public string ReadFlag() => TryConsume('\\') ? "\\" + ReadAtom() : ReadAtom();

    public SequenceSet ReadSequenceSet()
    {
        var text = ReadWhile(c => c is >= '0' and <= '9' or ':' or ',' or '*');
        if (text.Length == 0)
        {
            throw new ImapSyntaxException("expected a sequence set");
        }
        return SequenceSet.Parse(text);
    }

    /// <summary>date: <c>1-Feb-1994</c> or the same quoted (SEARCH).</summary>
    public DateOnly ReadDate()
    {
        var quoted = TryConsume('"');
        var text = ReadWhile(c => char.IsAsciiLetterOrDigit((char)c) || c == '-');
        if (quoted)
        {
            Expect('"');
        }
        var pieces = text.Split('-');
        if (pieces.Length != 3 || pieces[0].Length is < 1 or > 2 || pieces[2].Length != 4
            || !int.TryParse(pieces[0], NumberStyles.None, CultureInfo.InvariantCulture, out var day)
            || !int.TryParse(pieces[2], NumberStyles.None, CultureInfo.InvariantCulture, out var year))
        {
            throw new ImapSyntaxException($"invalid date '{text}', expected like 1-Feb-1994");
        }
        var month = Array.FindIndex(MonthNames, m => m.Equals(pieces[1], StringComparison.OrdinalIgnoreCase)) + 1;
        if (month == 0 || year < 1 || day > DateTime.DaysInMonth(year, month) || day < 1)
        {
            throw new ImapSyntaxException($"invalid date '{text}'");
        }
        return new DateOnly(year, month, day);
    }

    /// <summary>date-time: <c>"17-Jul-1996 02:44:25 -0700"</c> (APPEND).</summary>
    public DateTimeOffset ReadDateTime()
    {
        var text = Encoding.ASCII.GetString(ReadQuotedBytes());
        if (!TryParseDateTime(text, out var value))
        {
            throw new ImapSyntaxException($"invalid date-time '{text}', expected like \"17-Jul-1996 02:44:25 -0700\"");
        }
        return value;
    }

    public static bool TryParseDateTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(
            text.TrimStart(),
            ["d-MMM-yyyy HH:mm:ss zzz"],
            CultureInfo.InvariantCulture,
            DateTimeStyles.None,
            out value)
        || DateTimeOffset.TryParseExact(
            InsertZoneColon(text.TrimStart()), "d-MMM-yyyy HH:mm:ss zzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out value);

    public static string FormatDateTime(DateTimeOffset value) =>
        value.ToString("dd-MMM-yyyy HH:mm:ss ", CultureInfo.InvariantCulture)
        + (value.Offset < TimeSpan.Zero ? "-" : "+")
        + value.Offset.Duration().ToString("hhmm", CultureInfo.InvariantCulture);

    public static string MonthName(int month) => MonthNames[month - 1];

    /// <summary>Reads bytes matching <paramref name="accept"/> as ASCII text.</summary>
    public string ReadWhile(Func<int, bool> accept)
    {
        var line = Command.Parts[_part];
        var start = _position;
        while (_position < Limit && accept(line[_position]))
        {
            _position++;
        }
        return Encoding.ASCII.GetString(line, start, _position - start);
    }

    /// <summary>ATOM-CHAR: any CHAR except atom-specials <c>( ) { SP CTL % * " \ ]</c>.</summary>
    public static bool IsAtomChar(int c) => c is > 0x20 and < 0x7f and not ('(' or ')' or '{' or '%' or '*' or '"' or '\\' or ']');

    /// <summary>ASTRING-CHAR: ATOM-CHAR or "]".</summary>
    public static bool IsAStringChar(int c) => IsAtomChar(c) || c == ']';

    private static string InsertZoneColon(string text) =>
        text.Length >= 5 && (text[^5] == '+' || text[^5] == '-') ? text[..^2] + ":" + text[^2..] : text;
}
