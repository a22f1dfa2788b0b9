using System.Text;

namespace MailAuth.Server.Imap.Mime;

/// <summary>
/// One item of an address list as IMAP's ENVELOPE has it (RFC 3501 §7.4.2): a mailbox
/// (<see cref="Name"/>, <see cref="Route"/>, <see cref="Mailbox"/>, <see cref="Host"/>), or the start
/// (<c>(NIL NIL "group" NIL)</c>) or end (<c>(NIL NIL NIL NIL)</c>) marker of a group (RFC 5322 §3.4).
/// Values are as written, comments and quoting removed; encoded-words are left to the reader.
/// </summary>
internal sealed record EnvelopeAddress(string? Name, string? Mailbox, string? Host)
{
    /// <summary>An obsolete source route (RFC 5322 §4.4) <c>@a,@b</c>, or null.</summary>
    public string? Route { get; init; }

    /// <summary>The start of a group: <see cref="Mailbox"/> holds the group's name.</summary>
    public bool IsGroupStart => Host is null && Mailbox is not null;

    /// <summary>The end of a group.</summary>
    public bool IsGroupEnd => Host is null && Mailbox is null;

    /// <summary>A real mailbox (not a group marker).</summary>
    public bool IsMailbox => Host is not null;

    /// <summary><c>mailbox@host</c> of a mailbox (just the mailbox when the host is missing); null for a group marker.</summary>
    public string? Address => Host is null ? null : Host.Length == 0 ? Mailbox : $"{Mailbox}@{Host}";

    /// <summary>
    /// Parses an address-list header value leniently: <c>"Julie D." &lt;julie@family.example&gt;,
    /// anna@family.example (Anna), team: a@x.example, b@x.example;</c>. Groups become the
    /// (NIL NIL name NIL) … (NIL NIL NIL NIL) markers IMAP uses; an empty item adds nothing.
    /// </summary>
    public static List<EnvelopeAddress> ParseList(string value)
    {
        var result = new List<EnvelopeAddress>();
        var current = new List<HeaderToken>();
        var inAngle = false;
        var inGroup = false;
        foreach (var token in HeaderLexer.Tokenize(value))
        {
            if (token.Is('<'))
            {
                inAngle = true;
            }
            else if (token.Is('>'))
            {
                inAngle = false;
            }
            else if (inAngle)
            {
                // A source route's ':' and ',' (<@a,@b:user@host>) belong to the address.
            }
            else if (token.Is(':') && !inGroup)
            {
                result.Add(new EnvelopeAddress(null, Phrase(current) ?? "", null));
                inGroup = true;
                current.Clear();
                continue;
            }
            else if (token.Is(';') && inGroup)
            {
                AddMailbox(result, current);
                result.Add(new EnvelopeAddress(null, null, null));
                inGroup = false;
                current.Clear();
                continue;
            }
            else if (token.Is(','))
            {
                AddMailbox(result, current);
                current.Clear();
                continue;
            }
            current.Add(token);
        }
        AddMailbox(result, current);
        if (inGroup)
        {
            result.Add(new EnvelopeAddress(null, null, null));
        }
        return result;
    }

    /// <summary>
    /// One mailbox: <c>phrase &lt;[route:]local@domain&gt;</c> or <c>local@domain (comment)</c>, the
    /// comment then being the name. Comments inside an address are obsolete syntax and ignored.
    /// </summary>
    private static void AddMailbox(List<EnvelopeAddress> result, List<HeaderToken> tokens)
    {
        if (!tokens.Any(t => t.Kind != HeaderTokenKind.Comment))
        {
            return;
        }
        var open = tokens.FindIndex(t => t.Is('<'));
        string? name;
        List<HeaderToken> address;
        if (open >= 0)
        {
            name = Phrase(tokens.GetRange(0, open));
            var close = tokens.FindIndex(open, t => t.Is('>'));
            address = tokens.GetRange(open + 1, (close < 0 ? tokens.Count : close) - open - 1);
        }
        else
        {
            name = tokens.LastOrDefault(t => t.Kind == HeaderTokenKind.Comment) is { Kind: HeaderTokenKind.Comment } comment ? NullIfEmpty(comment.Text.Trim()) : null;
            address = tokens;
        }
        address = [.. address.Where(t => t.Kind != HeaderTokenKind.Comment)];
        string? route = null;
        var routeEnd = address.FindLastIndex(t => t.Is(':'));
        if (routeEnd >= 0)
        {
            route = NullIfEmpty(Concatenate(address.GetRange(0, routeEnd)));
            address = address.GetRange(routeEnd + 1, address.Count - routeEnd - 1);
        }
        var at = address.FindLastIndex(t => t.Is('@'));
        var mailbox = Concatenate(at >= 0 ? address.GetRange(0, at) : address);
        var host = at >= 0 ? Concatenate(address.GetRange(at + 1, address.Count - at - 1)) : "";
        result.Add(new EnvelopeAddress(name, mailbox, host) { Route = route });
    }

    /// <summary>A display name: its words joined by single spaces, or null when there are none.</summary>
    private static string? Phrase(List<HeaderToken> tokens)
    {
        var words = tokens.Where(t => t.Kind != HeaderTokenKind.Comment).Select(t => t.Text);
        return NullIfEmpty(string.Join(' ', words).Trim());
    }

    /// <summary>An addr-spec's tokens as one string: <c>"john doe" @ example.org</c> → <c>john doe@example.org</c>.</summary>
    private static string Concatenate(List<HeaderToken> tokens)
    {
        var builder = new StringBuilder();
        foreach (var token in tokens)
        {
            builder.Append(token.Text);
        }
        return builder.ToString();
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;
}
