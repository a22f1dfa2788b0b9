namespace MailAuth.Server.Imap.Parsing;

/// <summary>
/// The <c>RETURN (…)</c> of SEARCH and SORT (RFC 4731 §3.1, RFC 5267 §3.1 and §4): which results
/// the client wants in the ESEARCH response. <c>RETURN ()</c> means ALL.
/// </summary>
internal sealed record SearchReturnOptions(bool Min, bool Max, bool All, bool Count, bool Update, PartialRange? Partial)
{
    /// <summary>Consumes <c>RETURN (…) </c> when it comes next; null when the command has none.</summary>
    public static SearchReturnOptions? TryParse(ImapReader reader)
    {
        if (!reader.TryConsumeWord("RETURN"))
        {
            return null;
        }
        reader.ExpectSpace();
        reader.Expect('(');
        bool min = false, max = false, all = false, count = false, update = false;
        PartialRange? partial = null;
        while (!reader.TryConsume(')'))
        {
            if (min || max || all || count || update || partial is not null)
            {
                reader.ExpectSpace();
            }
            var option = reader.ReadAtom().ToUpperInvariant();
            switch (option)
            {
                case "MIN": min = true; break;
                case "MAX": max = true; break;
                case "ALL": all = true; break;
                case "COUNT": count = true; break;
                case "UPDATE": update = true; break;
                case "PARTIAL" when partial is null:
                    reader.ExpectSpace();
                    partial = PartialRange.Parse(reader.ReadWhile(c => c is (>= '0' and <= '9') or ':' or '-' or '*'));
                    break;
                default:
                    throw new ImapSyntaxException($"unknown or repeated RETURN option '{option}'");
            }
        }
        reader.ExpectSpace();
        if (partial is not null && all)
        {
            // RFC 5267 §4.4: PARTIAL and ALL cannot be used together.
            throw new ImapSyntaxException("RETURN cannot have both PARTIAL and ALL");
        }
        if (!min && !max && !count && !update && partial is null)
        {
            all = true; // RETURN () and RETURN (ALL) mean the same (RFC 4731 §3.1)
        }
        return new SearchReturnOptions(min, max, all, count, update, partial);
    }
}

/// <summary>
/// PARTIAL's range of result positions: <c>1:100</c> (RFC 5267 §4.4) or, from the end,
/// <c>-1:-100</c> (RFC 9394 §3.1); kept with the smaller magnitude first, as echoed back.
/// </summary>
internal sealed record PartialRange(long First, long Last)
{
    public bool FromEnd => First < 0;

    public static PartialRange Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !TryPosition(text[..colon], out var first) || !TryPosition(text[(colon + 1)..], out var last) || (first < 0) != (last < 0))
        {
            throw new ImapSyntaxException("PARTIAL needs a range of positions such as 1:100 or -1:-100");
        }
        return Math.Abs(first) <= Math.Abs(last) ? new PartialRange(first, last) : new PartialRange(last, first);
    }

    /// <summary>The results at these positions, in their order.</summary>
    public IEnumerable<T> Select<T>(IReadOnlyList<T> results)
    {
        long from, to; // 0-based, inclusive
        if (FromEnd)
        {
            from = results.Count + Last;
            to = results.Count + First;
        }
        else
        {
            from = First - 1;
            to = Last - 1;
        }
        from = Math.Max(from, 0);
        to = Math.Min(to, results.Count - 1);
        for (var i = from; i <= to; i++)
        {
            yield return results[(int)i];
        }
    }

    public override string ToString() => $"{First}:{Last}";

    private static bool TryPosition(string text, out long value)
    {
        var negative = text.StartsWith('-');
        var digits = negative ? text[1..] : text;
        value = 0;
        // nz-number: no sign, no leading zero, at most 32 bits, not 0 (RFC 9394 §5).
        if (digits.Length is 0 or > 10 || digits[0] == '0' || !digits.All(char.IsAsciiDigit)
            || !long.TryParse(digits, out value) || value > uint.MaxValue)
        {
            return false;
        }
        value = negative ? -value : value;
        return true;
    }
}
