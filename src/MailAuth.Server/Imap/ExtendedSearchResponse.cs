using System.Globalization;
using System.Text;
using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap;

/// <summary>
/// <c>* ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 4 ALL 2,4:5,9</c> (RFC 4731 §3.1, RFC 5267 §3.2,
/// RFC 9394 §3.1). <paramref name="results"/> are in result order: ascending for SEARCH, the
/// sort order for SORT, where MIN and MAX are the first and last sorted message (RFC 5267 §3.1).
/// </summary>
internal static class ExtendedSearchResponse
{
    public static string Format(string tag, bool byUid, SearchReturnOptions options, IReadOnlyList<uint> results, bool sorted, IReadOnlyDictionary<uint, ulong>? modSeqs = null)
    {
        var returned = new List<uint>();
        var line = Start(tag, byUid);
        if (options.Min && results.Count > 0)
        {
            var min = sorted ? results[0] : results.Min();
            returned.Add(min);
            line.Append(" MIN ").Append(Number(min));
        }
        if (options.Max && results.Count > 0)
        {
            var max = sorted ? results[^1] : results.Max();
            returned.Add(max);
            line.Append(" MAX ").Append(Number(max));
        }
        if (options.Count)
        {
            returned.AddRange(results);
            line.Append(" COUNT ").Append(Number((uint)results.Count));
        }
        if (options.All && results.Count > 0)
        {
            returned.AddRange(results);
            line.Append(" ALL ").Append(SequenceSet.Format(results));
        }
        if (options.Partial is { } partial)
        {
            var selected = partial.Select(results).ToList();
            returned.AddRange(selected);
            line.Append(" PARTIAL (").Append(partial.ToString()).Append(' ')
                .Append(selected.Count == 0 ? "NIL" : SequenceSet.Format(selected)).Append(')');
        }
        if (modSeqs is not null && returned.Count > 0)
        {
            // RFC 7162 §3.1.5: the highest mod-sequence of the messages this response returns.
            line.Append(" MODSEQ ").Append(returned.Max(n => modSeqs.GetValueOrDefault(n)).ToString(CultureInfo.InvariantCulture));
        }
        return line.Append("\r\n").ToString();
    }

    /// <summary>A context update (RFC 5267 §4.3): <c>ADDTO (position set)</c> or <c>REMOVEFROM (position set)</c>.</summary>
    public static string Update(string tag, bool byUid, string kind, uint position, IReadOnlyList<uint> numbers) =>
        Start(tag, byUid).Append(' ').Append(kind).Append(" (").Append(Number(position)).Append(' ')
            .Append(SequenceSet.Format(numbers)).Append(")\r\n").ToString();

    private static StringBuilder Start(string tag, bool byUid)
    {
        var line = new StringBuilder("* ESEARCH (TAG \"").Append(tag).Append("\")");
        return byUid ? line.Append(" UID") : line;
    }

    private static string Number(uint value) => value.ToString(CultureInfo.InvariantCulture);
}
