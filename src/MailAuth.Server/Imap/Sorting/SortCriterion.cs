using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Sorting;

/// <summary>The sort keys of RFC 5256 §3 and RFC 5957 (DISPLAYFROM, DISPLAYTO).</summary>
internal enum SortKey
{
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

/// <summary>One sort criterion: a key, in reverse order or not.</summary>
internal sealed record SortCriterion(SortKey Key, bool Reverse)
{
    /// <summary>Bounds the list; every key can only usefully come once, REVERSE with each.</summary>
    private const int MaxCriteria = 32;

    /// <summary>Parses <c>(REVERSE DATE SUBJECT)</c>.</summary>
    public static List<SortCriterion> ParseList(ImapReader reader)
    {
        reader.Expect('(');
        var criteria = new List<SortCriterion>();
        do
        {
            if (criteria.Count == MaxCriteria)
            {
                throw new ImapSyntaxException($"more than {MaxCriteria} sort criteria");
            }
            var reverse = false;
            var word = reader.ReadAtom().ToUpperInvariant();
            if (word == "REVERSE")
            {
                reverse = true;
                reader.ExpectSpace();
                word = reader.ReadAtom().ToUpperInvariant();
            }
            SortKey key = word switch
            {
                "ARRIVAL" => SortKey.Arrival,
                "CC" => SortKey.Cc,
                "DATE" => SortKey.Date,
                "FROM" => SortKey.From,
                "SIZE" => SortKey.Size,
                "SUBJECT" => SortKey.Subject,
                "TO" => SortKey.To,
                "DISPLAYFROM" => SortKey.DisplayFrom,
                "DISPLAYTO" => SortKey.DisplayTo,
                _ => throw new ImapSyntaxException($"unknown sort key '{word}'"),
            };
            criteria.Add(new SortCriterion(key, reverse));
        }
        while (reader.TryConsume(' '));
        reader.Expect(')');
        return criteria;
    }
}
