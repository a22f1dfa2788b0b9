using System.Globalization;
using System.Text;
using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// One message tested against a search key within one SEARCH command. Flag, size and date keys use
/// the index; header keys read the message's header block only; BODY and TEXT keys stream the
/// whole message once, decoded, looking for all of the command's strings at once
/// (<paramref name="foldedTexts"/>). Everything is read, parsed, decoded and upper-cased at most
/// once, whatever the number of keys; the command's time budget is checked before each search.
/// Keys on the fields the folder's header cache keeps (FROM, TO, CC, BCC, SUBJECT, SENT*, HEADER
/// of such a field) compare with the cached search-ready text (<see cref="HeaderSearchText"/>,
/// nothing decoded per message) instead of the file when <paramref name="headerCache"/> is given,
/// and a message read from its file is added to the cache.
/// </summary>
internal sealed class SearchCandidate(
    MaildirFolder folder, MaildirMessage message, uint sequence, uint largestSequence, uint largestUid, bool recent, SearchBudget budget,
    IReadOnlyList<string> foldedTexts, HeaderCacheReader? headerCache = null)
{
    /// <summary>Header keys look at the first MiB of the header: a hostile header costs no more memory than that.</summary>
    private const int MaxHeaderBytes = 1024 * 1024;

    private MimeEntity? _header;
    private bool _headerLoaded;
    private CachedHeader? _cached;
    private bool _cachedLoaded;
    private string? _foldedHeaderText;
    private List<(string Name, string FoldedValue)>? _foldedHeaders;
    private Dictionary<string, List<string>>? _foldedAddresses;
    private HashSet<string>? _bodyTexts;

    public bool Matches(SearchKey key) => key switch
    {
        SearchAll => true,
        SearchFlag flag => MaildirFlags.FromImap(flag.Flag) is var system && system != MessageFlags.None
            ? message.Flags.HasFlag(system) == flag.Set
            : HasKeyword(flag.Flag) == flag.Set,
        SearchModSeq modSeq => message.ModSeq >= modSeq.ModSeq,
        SearchRecent r => recent == r.Recent,
        SearchSequence s => s.Set.Contains(sequence, largestSequence),
        SearchUid u => u.Set.Contains(message.Uid, largestUid),
        SearchSize size => size.Larger ? message.Size > size.Size : message.Size < size.Size,
        SearchDate date => MatchesDate(date),
        SearchHeader header => MatchesHeader(header),
        SearchText text => MatchesText(text),
        SearchNot not => !Matches(not.Key),
        SearchOr or => Matches(or.Left) || Matches(or.Right),
        SearchAnd and => and.Keys.All(Matches),
        _ => false,
    };

    /// <summary>A keyword the folder never defined is set on no message.</summary>
    private bool HasKeyword(string name) =>
        folder.Keywords.LetterOf(name) is { } letter && message.OtherLetters.Contains(letter, StringComparison.Ordinal);

    /// <summary>The message's header fields, parsed from its header block alone (the body is not read).</summary>
    private MimeEntity? Header
    {
        get
        {
            if (!_headerLoaded)
            {
                _headerLoaded = true;
                _header = HeaderBlock.Parse(folder.FilePathOf(message.Uid), MaxHeaderBytes);
            }
            return _header;
        }
    }

    /// <summary>
    /// The message's Header record from the cache, made from its header block and added when the
    /// cache lacks it; null when the cache is off or the message cannot be cached.
    /// </summary>
    private CachedHeader? Cached
    {
        get
        {
            if (!_cachedLoaded && headerCache is not null)
            {
                _cachedLoaded = true;
                if (headerCache.Find(message, CachedPart.Header) is { } payload)
                {
                    _cached = CachedHeader.Read(payload);
                }
                if (_cached is null && Header is { } header && MessageListItems.HeaderPayload(header) is { } made)
                {
                    headerCache.Add(message, CachedPart.Header, made);
                    _cached = CachedHeader.Read(made);
                }
            }
            return _cached;
        }
    }

    /// <summary>Header fields with their values decoded (RFC 2047) and upper-cased, once per message.</summary>
    private List<(string Name, string FoldedValue)> FoldedHeaders(MimeEntity parsed) => _foldedHeaders ??= Folded(parsed);

    private static List<(string Name, string FoldedValue)> Folded(MimeEntity parsed) =>
        [.. parsed.Headers.Select(h => (h.Name, MessageFormatter.SearchableText(h.Value).ToUpperInvariant()))];

    /// <summary>
    /// The addresses (<c>mailbox@host</c>) and display names of one address field, comments removed
    /// (RFC 5322 §4.4 allows them inside an address), decoded and upper-cased, once per field.
    /// </summary>
    private List<string> FoldedAddresses(MimeEntity parsed, string field)
    {
        _foldedAddresses ??= new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        if (!_foldedAddresses.TryGetValue(field, out var folded))
        {
            folded = [];
            foreach (var header in parsed.Headers.Where(h => h.Name.Equals(field, StringComparison.OrdinalIgnoreCase)))
            {
                foreach (var address in EnvelopeAddress.ParseList(header.Value))
                {
                    foreach (var text in new[] { address.Address ?? address.Mailbox, address.Name })
                    {
                        if (text is not null)
                        {
                            folded.Add(MessageFormatter.SearchableText(text).ToUpperInvariant());
                        }
                    }
                }
            }
            _foldedAddresses[field] = folded;
        }
        return folded;
    }

    private bool MatchesDate(SearchDate key)
    {
        DateOnly day;
        if (key.Sent && Cached is { } cached)
        {
            if (HeaderSearchText.Sent(cached.SearchText.Span) is not { } cachedDay)
            {
                return false;
            }
            day = cachedDay;
        }
        else if (key.Sent)
        {
            if (Header?.Header("Date") is not { } header || !Rfc5322Date.TryParse(header, out var sent))
            {
                return false;
            }
            day = DateOnly.FromDateTime(sent.DateTime); // the date as written, in the sender's zone
        }
        else
        {
            day = DateOnly.FromDateTime(message.InternalDate.UtcDateTime);
        }
        return key.Comparison switch
        {
            DateComparison.Before => day < key.Date,
            DateComparison.On => day == key.Date,
            _ => day >= key.Date,
        };
    }

    private bool MatchesHeader(SearchHeader key)
    {
        if (key.CachedField >= 0 && Cached is { } cached)
        {
            budget.Check();
            return HeaderSearchText.Matches(cached.SearchText.Span, key.CachedField, key.FoldedUtf8, key.Addresses);
        }
        if (Header is not { } parsed)
        {
            return false;
        }
        budget.Check();
        var found = false;
        foreach (var (name, value) in FoldedHeaders(parsed))
        {
            if (!name.Equals(key.Field, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            found = true;
            if (value.Contains(key.Folded, StringComparison.Ordinal))
            {
                return true;
            }
        }
        if (found && key.Addresses && FoldedAddresses(parsed, key.Field).Any(a => a.Contains(key.Folded, StringComparison.Ordinal)))
        {
            return true;
        }
        // HEADER field "" matches every message that has the field (RFC 3501 §6.4.4).
        return found && key.Value.Length == 0;
    }

    private bool MatchesText(SearchText key)
    {
        if (key.IncludeHeaders && MatchesHeaderText(key))
        {
            return true;
        }
        budget.Check();
        if (_bodyTexts is null)
        {
            var path = folder.FilePathOf(message.Uid);
            _bodyTexts = path is null ? [] : BodyTextSearch.Find(path, foldedTexts, budget);
        }
        return _bodyTexts.Contains(key.Folded);
    }

    /// <summary>TEXT in the header: the header as written (UTF-8) or its values decoded (RFC 2047).</summary>
    private bool MatchesHeaderText(SearchText key)
    {
        if (Header is not { } parsed)
        {
            return false;
        }
        budget.Check();
        _foldedHeaderText ??= Encoding.UTF8.GetString(parsed.Data, (int)parsed.Start, (int)(parsed.BodyStart - parsed.Start)).ToUpperInvariant();
        return _foldedHeaderText.Contains(key.Folded, StringComparison.Ordinal)
            || FoldedHeaders(parsed).Any(h => h.FoldedValue.Contains(key.Folded, StringComparison.Ordinal));
    }
}

/// <summary>
/// The time one SEARCH command may take, checked between messages and before every text
/// comparison; past it the command ends with NO [LIMIT].
/// </summary>
internal sealed class SearchBudget(TimeSpan limit)
{
    private readonly long _deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);

    public void Check()
    {
        if (System.Diagnostics.Stopwatch.GetTimestamp() > _deadline)
        {
            throw new ImapLimitException("SEARCH took longer than the server allows; narrow the search");
        }
    }
}

/// <summary>RFC 5322 §3.3 date-time, leniently: <c>Tue, 1 Jul 2003 10:52:37 +0200 (CEST)</c>.</summary>
internal static class Rfc5322Date
{
    private static readonly string[] Formats =
    [
        "d MMM yyyy HH:mm:ss zzz", "d MMM yyyy HH:mm zzz", "d MMM yy HH:mm:ss zzz", "d MMM yy HH:mm zzz",
    ];

    public static bool TryParse(string value, out DateTimeOffset result)
    {
        var text = value;
        var comment = text.IndexOf('(', StringComparison.Ordinal);
        if (comment >= 0)
        {
            text = text[..comment];
        }
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        if (comma >= 0)
        {
            text = text[(comma + 1)..];
        }
        text = string.Join(' ', text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
        var zoneStart = text.LastIndexOf(' ');
        if (zoneStart > 0)
        {
            var zone = text[(zoneStart + 1)..];
            var offset = zone.ToUpperInvariant() switch
            {
                "UT" or "GMT" or "Z" => "+00:00",
                "EST" => "-05:00",
                "EDT" => "-04:00",
                "CST" => "-06:00",
                "CDT" => "-05:00",
                "MST" => "-07:00",
                "MDT" => "-06:00",
                "PST" => "-08:00",
                "PDT" => "-07:00",
                _ when zone.Length == 5 && zone[0] is '+' or '-' => zone[..3] + ":" + zone[3..],
                _ => null,
            };
            if (offset is not null)
            {
                text = text[..zoneStart] + " " + offset;
            }
        }
        return DateTimeOffset.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out result);
    }
}
