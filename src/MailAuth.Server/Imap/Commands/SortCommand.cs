using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Imap.Sorting;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// SORT and UID SORT (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO); with RETURN options the
/// answer is an ESEARCH line in sort order (ESORT, RFC 5267 §3).
/// </summary>
internal sealed class SortCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID SORT" : "SORT";

    public bool AllowsExpungeUpdates => byUid;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var options = SearchReturnOptions.TryParse(arguments);
        var criteria = SortCriterion.ParseList(arguments);
        arguments.ExpectSpace();
        var charset = arguments.ReadAString();
        arguments.ExpectSpace();
        var key = SearchKey.ParseProgram(arguments, session.Options.MaxSearchKeys);
        if (!SearchMatcher.IsSupportedCharset(charset))
        {
            session.Tagged(tag, ImapStatus.No, "Unsupported charset", SearchMatcher.BadCharsetCode);
            return Task.CompletedTask;
        }
        var selected = session.RequireSelected();
        if (options is { Update: true })
        {
            // CONTEXT=SORT is not offered: sorted results are not kept up to date.
            session.Tagged(tag, ImapStatus.No, "SORT results are not kept up to date; use SEARCH RETURN (UPDATE)", $"NOUPDATE \"{tag}\"");
            return Task.CompletedTask;
        }
        var budget = new SearchBudget(session.Options.MaxSearchTime);
        List<int> sorted;
        using (var headerCache = CachedFetch.Reader(session, selected))
        {
            sorted = MessageSorter.Sort(selected, SearchMatcher.Matching(selected, key, budget, headerCache), criteria, budget, headerCache);
        }
        var results = sorted.Select(i => byUid ? selected.Uids[i] : (uint)(i + 1)).ToList();
        if (options is null)
        {
            var numbers = results.Count == 0 ? "" : " " + string.Join(' ', results);
            session.Write($"* SORT{numbers}\r\n");
        }
        else
        {
            session.Write(ExtendedSearchResponse.Format(tag, byUid, options, results, sorted: true));
        }
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }
}
