using System.Text;

namespace MailAuth.Server.Imap.Mime;

/// <summary>One item of an address list: a mailbox, or the start/end marker of a group (RFC 5322 §3.4).</summary>
internal sealed record EnvelopeAddress(string? Name, string? Mailbox, string? Host)
{
    /// <summary>
    /// Parses an address-list header value leniently: <c>"Julie D." &lt;julie@family.example&gt;,
    /// anna@family.example (Anna), team: a@x.example, b@x.example;</c>. Groups become the
    /// (NIL NIL name NIL) … (NIL NIL NIL NIL) markers IMAP uses.
    /// </summary>
    public static List<EnvelopeAddress> ParseList(string value)
    {
        var result = new List<EnvelopeAddress>();
        var current = new StringBuilder();
        var inQuote = false;
        var inAngle = false;
        var comment = 0;
        var inGroup = false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (inQuote)
            {
                current.Append(c);
                if (c == '\\' && i + 1 < value.Length)
                {
                    current.Append(value[++i]);
                }
                else if (c == '"')
                {
                    inQuote = false;
                }
                continue;
            }
            if (comment > 0)
            {
                comment += c == '(' ? 1 : c == ')' ? -1 : 0;
                current.Append(c);
                continue;
            }
            switch (c)
            {
                case '"':
                    inQuote = true;
                    current.Append(c);
                    break;
                case '(':
                    comment = 1;
                    current.Append(c);
                    break;
                case '<':
                    inAngle = true;
                    current.Append(c);
                    break;
                case '>':
                    inAngle = false;
                    current.Append(c);
                    break;
                case ':' when !inAngle && !inGroup:
                    result.Add(new EnvelopeAddress(null, null, DisplayName(current.ToString()) ?? ""));
                    inGroup = true;
                    current.Clear();
                    break;
                case ';' when !inAngle && inGroup:
                    AddMailbox(result, current.ToString());
                    result.Add(new EnvelopeAddress(null, null, null));
                    inGroup = false;
                    current.Clear();
                    break;
                case ',' when !inAngle:
                    AddMailbox(result, current.ToString());
                    current.Clear();
                    break;
                default:
                    current.Append(c);
                    break;
            }
        }
        AddMailbox(result, current.ToString());
        if (inGroup)
        {
            result.Add(new EnvelopeAddress(null, null, null));
        }
        return result;
    }

    private static void AddMailbox(List<EnvelopeAddress> result, string text)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            return;
        }
        string? name;
        string address;
        var open = text.LastIndexOf('<');
        if (open >= 0)
        {
            var close = text.IndexOf('>', open);
            address = (close > open ? text[(open + 1)..close] : text[(open + 1)..]).Trim();
            name = DisplayName(text[..open]);
        }
        else
        {
            var commentStart = text.IndexOf('(', StringComparison.Ordinal);
            var commentEnd = text.LastIndexOf(')');
            name = commentStart >= 0 && commentEnd > commentStart ? NullIfEmpty(text[(commentStart + 1)..commentEnd].Trim()) : null;
            address = (commentStart >= 0 ? text[..commentStart] : text).Trim();
        }
        // A source route "@a,@b:user@host" is obsolete; only the last hop's address matters.
        var routeEnd = address.LastIndexOf(':');
        if (routeEnd >= 0)
        {
            address = address[(routeEnd + 1)..];
        }
        var at = address.LastIndexOf('@');
        var mailbox = at >= 0 ? address[..at] : address;
        if (mailbox.Length >= 2 && mailbox[0] == '"' && mailbox[^1] == '"')
        {
            mailbox = MimeEntity.Unquote(mailbox[1..^1]);
        }
        result.Add(new EnvelopeAddress(name, mailbox, at >= 0 ? address[(at + 1)..] : ""));
    }

    private static string? DisplayName(string text)
    {
        text = text.Trim();
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
        {
            text = MimeEntity.Unquote(text[1..^1]);
        }
        return NullIfEmpty(text);
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;
}
