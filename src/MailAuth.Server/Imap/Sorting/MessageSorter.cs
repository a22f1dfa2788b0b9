using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Sorting;

/// <summary>
/// SORT's ordering (RFC 5256 §3): the criteria in turn, each ascending unless REVERSE, and the
/// sequence number, ascending, as the final tie-breaker. Only headers are read, and only when a
/// criterion needs one; the search budget is checked before each message's keys are built.
/// </summary>
internal static class MessageSorter
{
    /// <summary>The 0-based <paramref name="indexes"/> of the session's view, sorted.</summary>
    public static List<int> Sort(SelectedFolder selected, IReadOnlyList<int> indexes, IReadOnlyList<SortCriterion> criteria, SearchBudget budget,
        HeaderCacheReader? headerCache = null)
    {
        var readsHeaders = criteria.Any(c => c.Key is not (SortKey.Arrival or SortKey.Size));
        var items = new Item[indexes.Count];
        for (var n = 0; n < indexes.Count; n++)
        {
            budget.Check();
            var index = indexes[n];
            var uid = selected.Uids[index];
            var message = selected.Message(uid);
            var headers = readsHeaders && message is not null ? SortHeaders.Of(selected, message, headerCache) : null;
            var text = new string[criteria.Count];
            var numbers = new long[criteria.Count];
            for (var c = 0; c < criteria.Count; c++)
            {
                switch (criteria[c].Key)
                {
                    case SortKey.Arrival:
                        numbers[c] = message?.InternalDate.UtcTicks ?? 0;
                        break;
                    case SortKey.Size:
                        numbers[c] = message?.Size ?? 0;
                        break;
                    case SortKey.Date:
                        numbers[c] = message is null ? 0 : SentDate.Of(headers, message).UtcTicks;
                        break;
                    case SortKey.Subject:
                        text[c] = BaseSubject.FromHeader(headers?.Header("Subject")).Subject;
                        break;
                    case SortKey.From:
                        text[c] = SortAddress.Mailbox(headers?.Header("From"));
                        break;
                    case SortKey.To:
                        text[c] = SortAddress.Mailbox(headers?.Header("To"));
                        break;
                    case SortKey.Cc:
                        text[c] = SortAddress.Mailbox(headers?.Header("Cc"));
                        break;
                    case SortKey.DisplayFrom:
                        text[c] = SortAddress.Display(headers?.Header("From"));
                        break;
                    case SortKey.DisplayTo:
                        text[c] = SortAddress.Display(headers?.Header("To"));
                        break;
                }
            }
            items[n] = new Item(index, text, numbers);
        }
        Array.Sort(items, (a, b) => Compare(a, b, criteria));
        return [.. items.Select(i => i.Index)];
    }

    private static int Compare(Item a, Item b, IReadOnlyList<SortCriterion> criteria)
    {
        for (var c = 0; c < criteria.Count; c++)
        {
            var order = a.Text[c] is null ? a.Numbers[c].CompareTo(b.Numbers[c]) : string.CompareOrdinal(a.Text[c], b.Text[c]);
            if (order != 0)
            {
                return criteria[c].Reverse ? -order : order;
            }
        }
        return a.Index.CompareTo(b.Index);
    }

    private sealed record Item(int Index, string?[] Text, long[] Numbers);
}
