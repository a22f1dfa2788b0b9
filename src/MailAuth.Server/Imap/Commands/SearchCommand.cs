using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// SEARCH and UID SEARCH (§6.4.4), with RETURN options answered by ESEARCH (RFC 4731, RFC 5267
/// §4.4 PARTIAL); RETURN (UPDATE) keeps the search up to date (RFC 5267 §4, <see cref="SearchContexts"/>).
/// </summary>
internal sealed class SearchCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID SEARCH" : "SEARCH";

    public bool AllowsExpungeUpdates => byUid;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var options = SearchReturnOptions.TryParse(arguments);
        if (arguments.TryConsumeWord("CHARSET"))
        {
            arguments.ExpectSpace();
            var charset = arguments.ReadAString();
            arguments.ExpectSpace();
            if (!SearchMatcher.IsSupportedCharset(charset))
            {
                session.Tagged(tag, ImapStatus.No, "Unsupported charset", SearchMatcher.BadCharsetCode);
                return Task.CompletedTask;
            }
        }
        var key = SearchKey.ParseProgram(arguments, session.Options.MaxSearchKeys);
        var selected = session.RequireSelected();
        var budget = new SearchBudget(session.Options.MaxSearchTime);
        List<int> indexes;
        using (var headerCache = CachedFetch.Reader(session, selected))
        {
            indexes = SearchMatcher.Matching(selected, key, budget, headerCache);
        }
        var results = indexes.Select(i => byUid ? selected.Uids[i] : (uint)(i + 1)).ToList();
        Dictionary<uint, ulong>? modSeqs = null;
        if (SearchKey.UsesModSeq(key))
        {
            session.EnableCondstore(); // a CONDSTORE enabling command (RFC 7162 §3.1)
            modSeqs = indexes.ToDictionary(i => byUid ? selected.Uids[i] : (uint)(i + 1), i => selected.Message(selected.Uids[i])?.ModSeq ?? 0);
        }
        if (options is null)
        {
            var numbers = results.Count == 0 ? "" : " " + string.Join(' ', results);
            // RFC 7162 §3.1.5: a search by MODSEQ ends with the highest mod-sequence of the matches (none when nothing matched).
            var modSeq = modSeqs is { Count: > 0 } ? $" (MODSEQ {modSeqs.Values.Max()})" : "";
            session.Write($"* SEARCH{numbers}{modSeq}\r\n");
        }
        else
        {
            if (options.Update && !selected.Contexts.TryAdd(new SearchContext(tag, byUid, key), selected, indexes))
            {
                session.Tagged(tag, ImapStatus.No, $"At most {SearchContexts.MaxContexts} searches are kept up to date at once; CANCELUPDATE one", $"NOUPDATE \"{tag}\"");
                return Task.CompletedTask;
            }
            session.Write(ExtendedSearchResponse.Format(tag, byUid, options, results, sorted: false, modSeqs));
        }
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }
}
