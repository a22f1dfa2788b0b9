using System.Globalization;
using System.Text;

namespace MailAuth.Server.Imap.Parsing;

/// <summary>
/// An IMAP sequence set (RFC 3501 §9 <c>sequence-set</c>): ranges such as <c>1:5,7,9:*</c>, where
/// <c>*</c> stands for the largest number in use and <c>n:m</c> means the same as <c>m:n</c>.
/// </summary>
internal sealed class SequenceSet
{
    private SequenceSet(IReadOnlyList<(uint? First, uint? Last)> ranges) => Ranges = ranges;

    /// <summary>
    /// The ranges as written; null stands for <c>*</c> until it is resolved against a mailbox
    /// (not a number: 4294967295 is a valid nz-number, RFC 3501 §9).
    /// </summary>
    public IReadOnlyList<(uint? First, uint? Last)> Ranges { get; }

    public static SequenceSet Parse(string text)
    {
        var ranges = new List<(uint?, uint?)>();
        foreach (var item in text.Split(','))
        {
            var colon = item.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                var single = ParseNumber(item);
                ranges.Add((single, single));
            }
            else
            {
                ranges.Add((ParseNumber(item[..colon]), ParseNumber(item[(colon + 1)..])));
            }
        }
        return new SequenceSet(ranges);
    }

    public static SequenceSet Of(IEnumerable<uint> numbers) => new([.. numbers.Select(n => ((uint?)n, (uint?)n))]);

    /// <summary>True when <paramref name="value"/> is in the set, <c>*</c> meaning <paramref name="largest"/>.</summary>
    public bool Contains(uint value, uint largest)
    {
        foreach (var (first, last) in Ranges)
        {
            var a = first ?? largest;
            var b = last ?? largest;
            if (value >= Math.Min(a, b) && value <= Math.Max(a, b))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The largest number named explicitly (not by <c>*</c>), to reject sequence numbers beyond the mailbox.</summary>
    public uint LargestExplicit => Ranges.SelectMany(r => new[] { r.First, r.Last }).OfType<uint>().DefaultIfEmpty(0u).Max();

    /// <summary>The compact form <c>1:3,7</c> of ascending numbers, for COPYUID and APPENDUID.</summary>
    public static string Format(IReadOnlyList<uint> numbers)
    {
        var builder = new StringBuilder();
        var i = 0;
        while (i < numbers.Count)
        {
            var j = i;
            while (j + 1 < numbers.Count && numbers[j + 1] == numbers[j] + 1)
            {
                j++;
            }
            if (builder.Length > 0)
            {
                builder.Append(',');
            }
            builder.Append(numbers[i].ToString(CultureInfo.InvariantCulture));
            if (j > i)
            {
                builder.Append(':').Append(numbers[j].ToString(CultureInfo.InvariantCulture));
            }
            i = j + 1;
        }
        return builder.ToString();
    }

    private static uint? ParseNumber(string text)
    {
        if (text == "*")
        {
            return null;
        }
        // nz-number: no sign, no leading zero, fits in 32 bits, not 0.
        if (text.Length is 0 or > 10 || text[0] == '0' || !text.All(char.IsAsciiDigit)
            || !uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value == 0)
        {
            throw new ImapSyntaxException($"invalid sequence set number '{text}'");
        }
        return value;
    }
}
