using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Parsing;

/// <summary>The mailbox specifiers of RFC 5465 §6.</summary>
internal enum NotifyFilter
{
    Selected,
    SelectedDelayed,
    Inboxes,
    Personal,
    Subscribed,
    Subtree,
    Mailboxes,
}

/// <summary>The events of RFC 5465 §5 this server reports.</summary>
[Flags]
internal enum NotifyEvents
{
    None = 0,
    MessageNew = 1,
    MessageExpunge = 2,
    FlagChange = 4,
    MailboxName = 8,
    SubscriptionChange = 16,
}

/// <summary>One event group: which mailboxes, which events, and for MessageNew on the selected mailbox what to FETCH.</summary>
internal sealed record NotifyGroup(NotifyFilter Filter, IReadOnlyList<string> Mailboxes, NotifyEvents Events, IReadOnlyList<FetchAttribute> FetchAttributes)
{
    public const NotifyEvents MessageEvents = NotifyEvents.MessageNew | NotifyEvents.MessageExpunge | NotifyEvents.FlagChange;

    public bool IsSelected => Filter is NotifyFilter.Selected or NotifyFilter.SelectedDelayed;

    /// <summary>Whether the (non-selected) specifier names <paramref name="name"/>; <paramref name="subscriptions"/> for SUBSCRIBED.</summary>
    public bool Names(string name, IReadOnlySet<string> subscriptions) => Filter switch
    {
        // Mail is delivered into INBOX only (RFC 5465 §6.3).
        NotifyFilter.Inboxes => name == MaildirStore.Inbox,
        NotifyFilter.Personal => true,
        NotifyFilter.Subscribed => subscriptions.Contains(name),
        NotifyFilter.Subtree => Mailboxes.Any(m => name == m || name.StartsWith(m + MaildirStore.Delimiter, StringComparison.Ordinal)),
        NotifyFilter.Mailboxes => Mailboxes.Contains(name),
        _ => false,
    };
}

/// <summary>NOTIFY NONE (no groups) or NOTIFY SET [STATUS] with its groups; <see cref="Unsupported"/> names events this server does not report.</summary>
internal sealed record NotifyRequest(bool Status, IReadOnlyList<NotifyGroup> Groups, IReadOnlyList<string> Unsupported);

/// <summary>
/// <c>NOTIFY NONE</c> / <c>NOTIFY SET [STATUS] event-group *(SP event-group)</c> (RFC 5465 §8). The
/// rules of §5 and §6.1 (MessageNew and MessageExpunge together, FlagChange only with both, only
/// message events and only one of SELECTED/SELECTED-DELAYED for the selected mailbox, fetch
/// attributes only there) are BAD; events this server cannot report are left for NO [BADEVENT].
/// </summary>
internal static class NotifyArguments
{
    /// <summary>The events this server reports, as BADEVENT lists them (RFC 5465 §3.1).</summary>
    public const string SupportedEvents = "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange";

    public const int MaxGroups = 32;
    public const int MaxMailboxesPerGroup = 256;

    public static NotifyRequest Parse(ImapReader arguments)
    {
        arguments.ExpectSpace();
        if (arguments.TryConsumeWord("NONE"))
        {
            arguments.ExpectEnd();
            return new NotifyRequest(false, [], []);
        }
        if (!arguments.TryConsumeWord("SET"))
        {
            throw new ImapSyntaxException("expected NOTIFY SET or NOTIFY NONE");
        }
        arguments.ExpectSpace();
        var status = arguments.TryConsumeWord("STATUS");
        if (status)
        {
            arguments.ExpectSpace();
        }
        var groups = new List<NotifyGroup>();
        var unsupported = new List<string>();
        do
        {
            if (groups.Count == MaxGroups)
            {
                throw new ImapSyntaxException($"more than {MaxGroups} event groups");
            }
            groups.Add(ReadGroup(arguments, unsupported));
        }
        while (arguments.TryConsume(' '));
        arguments.ExpectEnd();
        if (groups.Count(g => g.IsSelected) > 1)
        {
            throw new ImapSyntaxException("only one of SELECTED and SELECTED-DELAYED may be given (RFC 5465 §6.1)");
        }
        return new NotifyRequest(status, groups, unsupported);
    }

    private static NotifyGroup ReadGroup(ImapReader arguments, List<string> unsupported)
    {
        arguments.Expect('(');
        var word = arguments.ReadAtom().ToUpperInvariant();
        var filter = word switch
        {
            "SELECTED" => NotifyFilter.Selected,
            "SELECTED-DELAYED" => NotifyFilter.SelectedDelayed,
            "INBOXES" => NotifyFilter.Inboxes,
            "PERSONAL" => NotifyFilter.Personal,
            "SUBSCRIBED" => NotifyFilter.Subscribed,
            "SUBTREE" => NotifyFilter.Subtree,
            "MAILBOXES" => NotifyFilter.Mailboxes,
            _ => throw new ImapSyntaxException($"unknown mailbox specifier {ImapSession.Sanitize(word)}"),
        };
        arguments.ExpectSpace();
        var mailboxes = new List<string>();
        if (filter is NotifyFilter.Subtree or NotifyFilter.Mailboxes)
        {
            // One name or a parenthesised list; no wildcard expansion (RFC 5465 §6.6).
            var many = arguments.TryConsume('(');
            do
            {
                if (mailboxes.Count == MaxMailboxesPerGroup)
                {
                    throw new ImapSyntaxException($"more than {MaxMailboxesPerGroup} mailboxes in one event group");
                }
                mailboxes.Add(arguments.ReadMailbox());
            }
            while (many && arguments.TryConsume(' '));
            if (many)
            {
                arguments.Expect(')');
            }
            arguments.ExpectSpace();
        }
        var (events, fetch, named) = ReadEvents(arguments, unsupported);
        arguments.Expect(')');
        var isSelected = filter is NotifyFilter.Selected or NotifyFilter.SelectedDelayed;
        if (named.Contains("MESSAGENEW") != named.Contains("MESSAGEEXPUNGE"))
        {
            throw new ImapSyntaxException("MessageNew and MessageExpunge go together (RFC 5465 §5)");
        }
        if ((named.Contains("FLAGCHANGE") || named.Contains("ANNOTATIONCHANGE")) && !named.Contains("MESSAGENEW"))
        {
            throw new ImapSyntaxException("FlagChange and AnnotationChange need MessageNew and MessageExpunge (RFC 5465 §5)");
        }
        if (isSelected && named.Any(n => n is not ("MESSAGENEW" or "MESSAGEEXPUNGE" or "FLAGCHANGE" or "ANNOTATIONCHANGE")))
        {
            throw new ImapSyntaxException("only message events apply to the selected mailbox (RFC 5465 §6.1)");
        }
        if (!isSelected && fetch.Count > 0)
        {
            throw new ImapSyntaxException("MessageNew fetch attributes apply to the selected mailbox only");
        }
        return new NotifyGroup(filter, mailboxes, events, fetch);
    }

    private static (NotifyEvents Events, List<FetchAttribute> Fetch, HashSet<string> Named) ReadEvents(ImapReader arguments, List<string> unsupported)
    {
        var events = NotifyEvents.None;
        var fetch = new List<FetchAttribute>();
        var named = new HashSet<string>(StringComparer.Ordinal);
        if (arguments.TryConsumeWord("NONE"))
        {
            return (events, fetch, named);
        }
        arguments.Expect('(');
        while (true)
        {
            var name = arguments.ReadAtom();
            var upper = name.ToUpperInvariant();
            named.Add(upper);
            switch (upper)
            {
                case "MESSAGENEW":
                    events |= NotifyEvents.MessageNew;
                    break;
                case "MESSAGEEXPUNGE":
                    events |= NotifyEvents.MessageExpunge;
                    break;
                case "FLAGCHANGE":
                    events |= NotifyEvents.FlagChange;
                    break;
                case "MAILBOXNAME":
                    events |= NotifyEvents.MailboxName;
                    break;
                case "SUBSCRIPTIONCHANGE":
                    events |= NotifyEvents.SubscriptionChange;
                    break;
                default:
                    // AnnotationChange, the METADATA events, extensions: NO [BADEVENT] (RFC 5465 §3.1).
                    unsupported.Add(ImapSession.Sanitize(name));
                    break;
            }
            if (arguments.TryConsume(')'))
            {
                return (events, fetch, named);
            }
            arguments.ExpectSpace();
            if (upper == "MESSAGENEW" && arguments.PeekIs('('))
            {
                fetch = FetchAttribute.ParseList(arguments);
                if (arguments.TryConsume(')'))
                {
                    return (events, fetch, named);
                }
                arguments.ExpectSpace();
            }
        }
    }
}
