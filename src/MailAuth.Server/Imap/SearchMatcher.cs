using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// Runs a parsed search program over the selected folder, for SEARCH, SORT, THREAD and the
/// updates of a search context; the command's time budget bounds the whole run.
/// </summary>
internal static class SearchMatcher
{
    /// <summary>The charsets SEARCH, SORT and THREAD accept (RFC 3501 §6.4.4; RFC 5256 §3 requires US-ASCII and UTF-8).</summary>
    public static bool IsSupportedCharset(string charset) =>
        charset.Equals("UTF-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("US-ASCII", StringComparison.OrdinalIgnoreCase);

    public const string BadCharsetCode = "BADCHARSET (US-ASCII UTF-8)";

    /// <summary>Indexes (0-based, ascending) of the messages of the session's view that match <paramref name="key"/>.</summary>
    public static List<int> Matching(SelectedFolder selected, SearchKey key, SearchBudget budget, HeaderCacheReader? headerCache = null)
    {
        var matches = new List<int>();
        var foldedTexts = SearchKey.FoldedTexts(key);
        for (var i = 0; i < selected.Count; i++)
        {
            budget.Check();
            if (Matches(selected, i, key, budget, foldedTexts, headerCache))
            {
                matches.Add(i);
            }
        }
        return matches;
    }

    /// <summary>Whether the message at <paramref name="index"/> matches; a message expunged meanwhile does not.</summary>
    public static bool Matches(SelectedFolder selected, int index, SearchKey key, SearchBudget budget, IReadOnlyList<string>? foldedTexts = null,
        HeaderCacheReader? headerCache = null)
    {
        var uid = selected.Uids[index];
        if (selected.Message(uid) is not { } message)
        {
            return false;
        }
        var largestUid = selected.Uids[^1];
        var candidate = new SearchCandidate(selected.Folder, message, (uint)(index + 1), (uint)selected.Count, largestUid, selected.IsRecent(uid), budget, foldedTexts ?? SearchKey.FoldedTexts(key), headerCache);
        return candidate.Matches(key);
    }
}
