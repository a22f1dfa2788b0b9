namespace MailAuth.Server.Imap.Parsing;

/// <summary>LIST-EXTENDED selection options (RFC 5258 §3.1, RFC 6154 §5.1).</summary>
[Flags]
internal enum ListSelection
{
    None = 0,
    Subscribed = 1,
    Remote = 2,
    RecursiveMatch = 4,
    SpecialUse = 8,
}

/// <summary>LIST-EXTENDED return options (RFC 5258 §3.2, RFC 6154 §5.2, RFC 5819).</summary>
[Flags]
internal enum ListReturn
{
    None = 0,
    Subscribed = 1,
    Children = 2,
    SpecialUse = 4,
    Status = 8,
}

/// <summary>A parsed LIST command: the basic form of RFC 3501 or the extended one of RFC 5258.</summary>
internal sealed record ListRequest(
    ListSelection Selection,
    string Reference,
    IReadOnlyList<string> Patterns,
    ListReturn Return,
    IReadOnlyList<string> StatusItems)
{
    /// <summary>The criteria a mailbox is selected by, other than matching a pattern (REMOTE and RECURSIVEMATCH are not criteria).</summary>
    public bool Filters => (Selection & (ListSelection.Subscribed | ListSelection.SpecialUse)) != 0;
}

/// <summary>
/// <c>LIST [SP "(" selection options ")"] SP reference SP (pattern / "(" patterns ")") [SP RETURN SP "(" return options ")"]</c>
/// (RFC 5258 §6). Unknown options and RECURSIVEMATCH without another criterion are BAD (§3.1, §3.2).
/// </summary>
internal static class ListArguments
{
    /// <summary>More patterns than this in one LIST are refused; no client sends more than a handful.</summary>
    public const int MaxPatterns = 64;

    public static ListRequest Parse(ImapReader arguments)
    {
        arguments.ExpectSpace();
        var selection = ListSelection.None;
        if (arguments.TryConsume('('))
        {
            selection = ReadSelection(arguments);
            arguments.ExpectSpace();
        }
        var reference = arguments.ReadAString();
        arguments.ExpectSpace();
        var patterns = new List<string>();
        if (arguments.TryConsume('('))
        {
            do
            {
                if (patterns.Count == MaxPatterns)
                {
                    throw new ImapSyntaxException($"more than {MaxPatterns} mailbox patterns");
                }
                patterns.Add(arguments.ReadListMailbox());
            }
            while (arguments.TryConsume(' '));
            arguments.Expect(')');
        }
        else
        {
            patterns.Add(arguments.ReadListMailbox());
        }
        var (returns, statusItems) = (ListReturn.None, (IReadOnlyList<string>)[]);
        if (arguments.TryConsume(' '))
        {
            if (!arguments.TryConsumeWord("RETURN"))
            {
                throw new ImapSyntaxException("expected RETURN after the mailbox patterns");
            }
            arguments.ExpectSpace();
            (returns, statusItems) = ReadReturn(arguments);
        }
        arguments.ExpectEnd();
        if (patterns.Any(p => reference.Length + p.Length > ListPattern.MaxLength))
        {
            throw new ImapSyntaxException($"reference and mailbox pattern longer than {ListPattern.MaxLength} characters together");
        }
        // RFC 5258 §3.1 and RFC 6154 §5.1: selecting by a criterion also returns it.
        if (selection.HasFlag(ListSelection.Subscribed))
        {
            returns |= ListReturn.Subscribed;
        }
        if (selection.HasFlag(ListSelection.SpecialUse))
        {
            returns |= ListReturn.SpecialUse;
        }
        return new ListRequest(selection, reference, patterns, returns, statusItems);
    }

    private static ListSelection ReadSelection(ImapReader arguments)
    {
        var selection = ListSelection.None;
        if (!arguments.TryConsume(')'))
        {
            do
            {
                var option = arguments.ReadAtom().ToUpperInvariant();
                selection |= option switch
                {
                    "SUBSCRIBED" => ListSelection.Subscribed,
                    "REMOTE" => ListSelection.Remote,
                    "RECURSIVEMATCH" => ListSelection.RecursiveMatch,
                    "SPECIAL-USE" => ListSelection.SpecialUse,
                    _ => throw new ImapSyntaxException($"unknown LIST selection option {ImapSession.Sanitize(option)}"),
                };
            }
            while (arguments.TryConsume(' '));
            arguments.Expect(')');
        }
        if (selection.HasFlag(ListSelection.RecursiveMatch) && (selection & (ListSelection.Subscribed | ListSelection.SpecialUse)) == 0)
        {
            throw new ImapSyntaxException("RECURSIVEMATCH needs another selection option such as SUBSCRIBED");
        }
        return selection;
    }

    private static (ListReturn Returns, IReadOnlyList<string> StatusItems) ReadReturn(ImapReader arguments)
    {
        var returns = ListReturn.None;
        IReadOnlyList<string> statusItems = [];
        arguments.Expect('(');
        if (arguments.TryConsume(')'))
        {
            return (returns, statusItems);
        }
        do
        {
            var option = arguments.ReadAtom().ToUpperInvariant();
            returns |= option switch
            {
                "SUBSCRIBED" => ListReturn.Subscribed,
                "CHILDREN" => ListReturn.Children,
                "SPECIAL-USE" => ListReturn.SpecialUse,
                "STATUS" => ListReturn.Status,
                _ => throw new ImapSyntaxException($"unknown LIST return option {ImapSession.Sanitize(option)}"),
            };
            if (option == "STATUS")
            {
                arguments.ExpectSpace();
                statusItems = StatusItems.Read(arguments);
            }
        }
        while (arguments.TryConsume(' '));
        arguments.Expect(')');
        return (returns, statusItems);
    }
}
