using System.Globalization;
using System.Text;

namespace MailAuth.Server.Imap.Parsing;

/// <summary>RFC 7162 syntax shared by SELECT, FETCH, STORE and SEARCH: mod-sequences and UID ranges.</summary>
internal static class ModSeqSyntax
{
    /// <summary>mod-sequence-value (RFC 7162 §7): a positive 63-bit number; mod-sequence-valzer allows 0.</summary>
    public static ulong ReadModSeq(this ImapReader reader, bool allowZero)
    {
        var digits = reader.ReadWhile(c => c is >= '0' and <= '9');
        if (digits.Length is 0 or > 19 || !ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            || value > long.MaxValue || (value == 0 && !allowZero))
        {
            throw new ImapSyntaxException("expected a mod-sequence");
        }
        return value;
    }

    /// <summary><c>1:3,7</c> from ascending, non-overlapping ranges.</summary>
    public static string Format(IEnumerable<(uint First, uint Last)> ranges)
    {
        var builder = new StringBuilder();
        foreach (var (first, last) in ranges)
        {
            builder.Append(builder.Length > 0 ? "," : "");
            builder.Append(first == last ? ImapFormat.Number(first) : $"{ImapFormat.Number(first)}:{ImapFormat.Number(last)}");
        }
        return builder.ToString();
    }

    /// <summary>A UID set with <c>*</c> resolved to <paramref name="largest"/>, each range low to high.</summary>
    public static List<(uint First, uint Last)> Resolve(SequenceSet set, uint largest) =>
        [.. set.Ranges.Select(r => (r.First ?? largest, r.Last ?? largest))
            .Select(r => (Math.Min(r.Item1, r.Item2), Math.Max(r.Item1, r.Item2)))];
}
