namespace MailAuth.Server.Imap.Parsing;

/// <summary>A parsed SEARCH criterion (RFC 3501 §6.4.4).</summary>
internal abstract record SearchKey
{
    /// <summary>Parses the search keys after <c>SEARCH [CHARSET x] </c>; several keys mean all of them.</summary>
    public static SearchKey ParseProgram(ImapReader reader) => ParseProgram(reader, int.MaxValue);

    /// <summary>
    /// As <see cref="ParseProgram(ImapReader)"/>, refusing more than <paramref name="maxKeys"/> keys
    /// (every key counts: NOT, OR and a parenthesised list too) with <see cref="ImapLimitException"/>.
    /// </summary>
    public static SearchKey ParseProgram(ImapReader reader, int maxKeys)
    {
        var counter = new KeyCounter(maxKeys);
        var keys = new List<SearchKey> { Parse(reader, depth: 0, counter) };
        while (reader.TryConsume(' '))
        {
            keys.Add(Parse(reader, depth: 0, counter));
        }
        reader.ExpectEnd();
        return keys.Count == 1 ? keys[0] : new SearchAnd(keys);
    }

    /// <summary>Nesting bound: NOT NOT NOT … or (((…))) cannot exhaust the stack.</summary>
    private const int MaxDepth = 64;

    private sealed class KeyCounter(int max)
    {
        private int _count;

        public void Count()
        {
            if (++_count > max)
            {
                throw new ImapLimitException($"More than {max} search keys in one command");
            }
        }
    }

    private static SearchKey Parse(ImapReader reader, int depth, KeyCounter counter)
    {
        if (depth > MaxDepth)
        {
            throw new ImapSyntaxException("search criteria nested too deeply");
        }
        counter.Count();
        if (reader.TryConsume('('))
        {
            var keys = new List<SearchKey> { Parse(reader, depth + 1, counter) };
            while (reader.TryConsume(' '))
            {
                keys.Add(Parse(reader, depth + 1, counter));
            }
            reader.Expect(')');
            return keys.Count == 1 ? keys[0] : new SearchAnd(keys);
        }
        if (reader.Peek() is (>= '0' and <= '9') or '*')
        {
            return new SearchSequence(reader.ReadSequenceSet());
        }
        var word = reader.ReadAtom().ToUpperInvariant();
        switch (word)
        {
            case "ALL": return new SearchAll();
            case "ANSWERED": return new SearchFlag("\\Answered", true);
            case "DELETED": return new SearchFlag("\\Deleted", true);
            case "DRAFT": return new SearchFlag("\\Draft", true);
            case "FLAGGED": return new SearchFlag("\\Flagged", true);
            case "SEEN": return new SearchFlag("\\Seen", true);
            case "UNANSWERED": return new SearchFlag("\\Answered", false);
            case "UNDELETED": return new SearchFlag("\\Deleted", false);
            case "UNDRAFT": return new SearchFlag("\\Draft", false);
            case "UNFLAGGED": return new SearchFlag("\\Flagged", false);
            case "UNSEEN": return new SearchFlag("\\Seen", false);
            case "RECENT": return new SearchRecent(true);
            case "OLD": return new SearchRecent(false);
            case "NEW": return new SearchAnd([new SearchRecent(true), new SearchFlag("\\Seen", false)]);
            case "KEYWORD": reader.ExpectSpace(); return new SearchFlag(reader.ReadAtom(), true);
            case "UNKEYWORD": reader.ExpectSpace(); return new SearchFlag(reader.ReadAtom(), false);
            case "BEFORE": return Date(reader, DateComparison.Before, sent: false);
            case "ON": return Date(reader, DateComparison.On, sent: false);
            case "SINCE": return Date(reader, DateComparison.Since, sent: false);
            case "SENTBEFORE": return Date(reader, DateComparison.Before, sent: true);
            case "SENTON": return Date(reader, DateComparison.On, sent: true);
            case "SENTSINCE": return Date(reader, DateComparison.Since, sent: true);
            case "LARGER": reader.ExpectSpace(); return new SearchSize(reader.ReadNumber(), Larger: true);
            case "SMALLER": reader.ExpectSpace(); return new SearchSize(reader.ReadNumber(), Larger: false);
            case "FROM" or "TO" or "CC" or "BCC":
                reader.ExpectSpace();
                return new SearchHeader(word, reader.ReadAString()) { Addresses = true };
            case "SUBJECT":
                reader.ExpectSpace();
                return new SearchHeader(word, reader.ReadAString());
            case "HEADER":
                reader.ExpectSpace();
                var field = reader.ReadAString();
                reader.ExpectSpace();
                return new SearchHeader(field, reader.ReadAString());
            case "BODY": reader.ExpectSpace(); return new SearchText(reader.ReadAString(), IncludeHeaders: false);
            case "TEXT": reader.ExpectSpace(); return new SearchText(reader.ReadAString(), IncludeHeaders: true);
            case "UID": reader.ExpectSpace(); return new SearchUid(reader.ReadSequenceSet());
            case "MODSEQ": return ModSeq(reader);
            case "NOT": reader.ExpectSpace(); return new SearchNot(Parse(reader, depth + 1, counter));
            case "OR":
                reader.ExpectSpace();
                var left = Parse(reader, depth + 1, counter);
                reader.ExpectSpace();
                return new SearchOr(left, Parse(reader, depth + 1, counter));
            default:
                throw new ImapSyntaxException($"unknown search key '{word}'");
        }
    }

    /// <summary>RFC 7162 §3.1.5: <c>MODSEQ ["/flags/name" priv|shared|all] n</c>; the entry is checked and, as per-flag mod-sequences are not kept, not used.</summary>
    private static SearchModSeq ModSeq(ImapReader reader)
    {
        reader.ExpectSpace();
        if (reader.PeekIs('"'))
        {
            reader.ReadString();
            reader.ExpectSpace();
            var type = reader.ReadAtom().ToUpperInvariant();
            if (type is not ("PRIV" or "SHARED" or "ALL"))
            {
                throw new ImapSyntaxException("expected priv, shared or all");
            }
            reader.ExpectSpace();
        }
        return new SearchModSeq(reader.ReadModSeq(allowZero: true));
    }

    /// <summary>Whether the key uses MODSEQ: then the SEARCH response ends with <c>(MODSEQ n)</c> (RFC 7162 §3.1.5).</summary>
    public static bool UsesModSeq(SearchKey key) => key switch
    {
        SearchModSeq => true,
        SearchNot not => UsesModSeq(not.Key),
        SearchOr or => UsesModSeq(or.Left) || UsesModSeq(or.Right),
        SearchAnd and => and.Keys.Any(UsesModSeq),
        _ => false,
    };

    private static SearchDate Date(ImapReader reader, DateComparison comparison, bool sent)
    {
        reader.ExpectSpace();
        return new SearchDate(comparison, sent, reader.ReadDate());
    }

    /// <summary>The distinct upper-cased strings of every BODY and TEXT key in <paramref name="key"/>.</summary>
    public static IReadOnlyList<string> FoldedTexts(SearchKey key)
    {
        var texts = new HashSet<string>(StringComparer.Ordinal);
        Collect(key);
        return [.. texts];

        void Collect(SearchKey node)
        {
            switch (node)
            {
                case SearchText text: texts.Add(text.Folded); break;
                case SearchNot not: Collect(not.Key); break;
                case SearchOr or: Collect(or.Left); Collect(or.Right); break;
                case SearchAnd and:
                    foreach (var inner in and.Keys)
                    {
                        Collect(inner);
                    }
                    break;
            }
        }
    }
}

internal enum DateComparison
{
    Before,
    On,
    Since,
}

internal sealed record SearchAll : SearchKey;

internal sealed record SearchFlag(string Flag, bool Set) : SearchKey;

internal sealed record SearchRecent(bool Recent) : SearchKey;

internal sealed record SearchSequence(SequenceSet Set) : SearchKey;

internal sealed record SearchUid(SequenceSet Set) : SearchKey;

internal sealed record SearchDate(DateComparison Comparison, bool Sent, DateOnly Date) : SearchKey;

internal sealed record SearchSize(long Size, bool Larger) : SearchKey;

internal sealed record SearchHeader(string Field, string Value) : SearchKey
{
    /// <summary>FROM, TO, CC, BCC: also matched against the parsed addresses and display names, comments removed.</summary>
    internal bool Addresses { get; init; }

    /// <summary>The value upper-cased once, compared ordinally with text upper-cased once per message.</summary>
    internal string Folded { get; } = Value.ToUpperInvariant();

    /// <summary><see cref="Folded"/> as UTF-8, compared with the header cache's search-ready text (<see cref="HeaderSearchText"/>).</summary>
    internal byte[] FoldedUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(Value.ToUpperInvariant());

    /// <summary>The field's number in the header cache's records, or -1 when the cache does not keep it.</summary>
    internal int CachedField { get; } = MessageListItems.NumberOf(Field);
}

internal sealed record SearchText(string Value, bool IncludeHeaders) : SearchKey
{
    /// <summary>The value upper-cased once, compared ordinally with text upper-cased once per message.</summary>
    internal string Folded { get; } = Value.ToUpperInvariant();
}

/// <summary>Messages whose mod-sequence is at least <c>ModSeq</c>.</summary>
internal sealed record SearchModSeq(ulong ModSeq) : SearchKey;

internal sealed record SearchNot(SearchKey Key) : SearchKey;

internal sealed record SearchOr(SearchKey Left, SearchKey Right) : SearchKey;

internal sealed record SearchAnd(IReadOnlyList<SearchKey> Keys) : SearchKey;
