using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// One search kept up to date (RFC 5267 §4: <c>SEARCH RETURN (UPDATE)</c>): the messages that
/// matched, and the flags each message had when it was last tested, so that only messages whose
/// flags changed, or that arrived, are tested again.
/// </summary>
internal sealed class SearchContext(string tag, bool byUid, SearchKey key)
{
    public string Tag { get; } = tag;

    public bool ByUid { get; } = byUid;

    public SearchKey Key { get; } = key;

    public HashSet<uint> Matching { get; } = [];

    public Dictionary<uint, MessageFlags> TestedFlags { get; } = [];
}

/// <summary>
/// The search contexts of one selected folder (RFC 5267 §4.3): after the session's view moves on,
/// each gets <c>* ESEARCH (TAG "t") ADDTO (0 set)</c> or <c>REMOVEFROM (0 set)</c>, position 0 as
/// for an unsorted search; removals of expunged messages go out before the EXPUNGE responses.
/// At most <see cref="MaxContexts"/>; one whose update overruns the search time is dropped with
/// <c>* NO [NOUPDATE "t"]</c>.
/// </summary>
internal sealed class SearchContexts
{
    public const int MaxContexts = 5;

    private readonly List<SearchContext> _contexts = [];

    /// <summary>Starts keeping <paramref name="context"/> up to date from the session's view as it is; false when there are too many.</summary>
    public bool TryAdd(SearchContext context, SelectedFolder selected, IEnumerable<int> matchingIndexes)
    {
        _contexts.RemoveAll(c => c.Tag == context.Tag);
        if (_contexts.Count >= MaxContexts)
        {
            return false;
        }
        foreach (var index in matchingIndexes)
        {
            context.Matching.Add(selected.Uids[index]);
        }
        foreach (var uid in selected.Uids)
        {
            if (selected.Message(uid) is { } message)
            {
                context.TestedFlags[uid] = message.Flags;
            }
        }
        _contexts.Add(context);
        return true;
    }

    /// <summary>CANCELUPDATE (RFC 5267 §4.2); false when no context has that tag.</summary>
    public bool Cancel(string tag) => _contexts.RemoveAll(c => c.Tag == tag) > 0;

    /// <summary>Just before the view drops expunged messages: REMOVEFROM with their numbers as the client knows them.</summary>
    public void BeforeExpunge(ImapSession session, SelectedFolder selected)
    {
        if (_contexts.Count == 0)
        {
            return;
        }
        foreach (var context in _contexts)
        {
            var removed = new List<uint>();
            for (var i = 0; i < selected.Count; i++)
            {
                var uid = selected.Uids[i];
                if (selected.Message(uid) is null)
                {
                    context.TestedFlags.Remove(uid);
                    if (context.Matching.Remove(uid))
                    {
                        removed.Add(context.ByUid ? uid : (uint)(i + 1));
                    }
                }
            }
            if (removed.Count > 0)
            {
                session.Write(ExtendedSearchResponse.Update(context.Tag, context.ByUid, "REMOVEFROM", 0, removed));
            }
        }
    }

    /// <summary>After the view took in new messages and flags: messages that arrived or changed are tested again.</summary>
    public void Refresh(ImapSession session, SelectedFolder selected)
    {
        if (_contexts.Count == 0)
        {
            return;
        }
        foreach (var context in _contexts.ToList())
        {
            var budget = new SearchBudget(session.Options.MaxSearchTime);
            var added = new List<uint>();
            var removed = new List<uint>();
            try
            {
                for (var i = 0; i < selected.Count; i++)
                {
                    var uid = selected.Uids[i];
                    if (selected.Message(uid) is not { } message
                        || (context.TestedFlags.TryGetValue(uid, out var flags) && flags == message.Flags))
                    {
                        continue;
                    }
                    var matches = SearchMatcher.Matches(selected, i, context.Key, budget);
                    context.TestedFlags[uid] = message.Flags;
                    var number = context.ByUid ? uid : (uint)(i + 1);
                    if (matches && context.Matching.Add(uid))
                    {
                        added.Add(number);
                    }
                    else if (!matches && context.Matching.Remove(uid))
                    {
                        removed.Add(number);
                    }
                }
            }
            catch (ImapLimitException)
            {
                _contexts.Remove(context);
                session.Write($"* NO [NOUPDATE \"{context.Tag}\"] Updating the search took too long; it is no longer kept up to date\r\n");
                continue;
            }
            if (removed.Count > 0)
            {
                session.Write(ExtendedSearchResponse.Update(context.Tag, context.ByUid, "REMOVEFROM", 0, removed));
            }
            if (added.Count > 0)
            {
                session.Write(ExtendedSearchResponse.Update(context.Tag, context.ByUid, "ADDTO", 0, added));
            }
        }
    }
}
