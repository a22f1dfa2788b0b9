using System.Text;

namespace MailAuth.Server.Imap.Mime;

internal enum HeaderTokenKind
{
    /// <summary>A run of characters that are neither whitespace nor specials (dots included, so a dot-atom is one token).</summary>
    Atom,

    /// <summary>A quoted-string; <see cref="HeaderToken.Text"/> is its content with the quoted-pairs resolved.</summary>
    QuotedString,

    /// <summary>A comment; <see cref="HeaderToken.Text"/> is its content, nested comments kept, quoted-pairs resolved.</summary>
    Comment,

    /// <summary>One of <c>( ) &lt; &gt; [ ] : ; @ , "</c> standing alone (an unmatched one included).</summary>
    Special,

    /// <summary>A domain-literal <c>[…]</c>, brackets included.</summary>
    DomainLiteral,
}

/// <summary>One lexical token of a structured header field (RFC 5322 §3.2).</summary>
internal readonly record struct HeaderToken(HeaderTokenKind Kind, string Text)
{
    public bool Is(char special) => Kind == HeaderTokenKind.Special && Text.Length == 1 && Text[0] == special;

    /// <summary>An atom or a quoted-string: a word of a phrase or of a local-part.</summary>
    public bool IsWord => Kind is HeaderTokenKind.Atom or HeaderTokenKind.QuotedString;
}

/// <summary>
/// The RFC 5322 §3.2 lexical tokens of structured header values: quoted-strings and comments
/// (nesting, quoted-pairs), the one scanner both address lists and MIME parameters use. An
/// unterminated quoted-string or comment runs to the end of the value, as mail in the wild has them.
/// </summary>
internal static class HeaderLexer
{
    private const string Specials = "()<>[]:;@\\,\"";

    public static List<HeaderToken> Tokenize(string value)
    {
        var tokens = new List<HeaderToken>();
        var i = 0;
        while (i < value.Length)
        {
            var c = value[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '"')
            {
                var end = QuotedStringEnd(value, i, out var closed);
                tokens.Add(new HeaderToken(HeaderTokenKind.QuotedString, Unescape(value, i + 1, closed ? end - 1 : end)));
                i = end;
            }
            else if (c == '(')
            {
                var end = CommentEnd(value, i, out var closed);
                tokens.Add(new HeaderToken(HeaderTokenKind.Comment, Unescape(value, i + 1, closed ? end - 1 : end)));
                i = end;
            }
            else if (c == '[' && value.IndexOf(']', i) is var close and > 0)
            {
                tokens.Add(new HeaderToken(HeaderTokenKind.DomainLiteral, value[i..(close + 1)]));
                i = close + 1;
            }
            else if (Specials.Contains(c, StringComparison.Ordinal))
            {
                tokens.Add(new HeaderToken(HeaderTokenKind.Special, c.ToString()));
                i++;
            }
            else
            {
                var start = i;
                while (i < value.Length && !char.IsWhiteSpace(value[i]) && !Specials.Contains(value[i], StringComparison.Ordinal))
                {
                    i++;
                }
                tokens.Add(new HeaderToken(HeaderTokenKind.Atom, value[start..i]));
            }
        }
        return tokens;
    }

    /// <summary>The index just past the quoted-string opening at <paramref name="start"/> (its closing quote).</summary>
    public static int QuotedStringEnd(string value, int start) => QuotedStringEnd(value, start, out _);

    /// <summary>The index just past the comment opening at <paramref name="start"/>, nested comments included.</summary>
    public static int CommentEnd(string value, int start) => CommentEnd(value, start, out _);

    /// <summary>The content of a quoted-string with its quoted-pairs resolved: <c>a\"b</c> → <c>a"b</c>.</summary>
    public static string Unquote(string quoted) => Unescape(quoted, 0, quoted.Length);

    private static int QuotedStringEnd(string value, int start, out bool closed)
    {
        for (var i = start + 1; i < value.Length; i++)
        {
            if (value[i] == '\\')
            {
                i++;
            }
            else if (value[i] == '"')
            {
                closed = true;
                return i + 1;
            }
        }
        closed = false;
        return value.Length;
    }

    private static int CommentEnd(string value, int start, out bool closed)
    {
        var depth = 0;
        for (var i = start; i < value.Length; i++)
        {
            switch (value[i])
            {
                case '\\':
                    i++;
                    break;
                case '(':
                    depth++;
                    break;
                case ')' when --depth == 0:
                    closed = true;
                    return i + 1;
            }
        }
        closed = false;
        return value.Length;
    }

    private static string Unescape(string value, int start, int end)
    {
        var builder = new StringBuilder(end - start);
        for (var i = start; i < end; i++)
        {
            if (value[i] == '\\' && i + 1 < end)
            {
                i++;
            }
            builder.Append(value[i]);
        }
        return builder.ToString();
    }
}
