using System.Globalization;

namespace MailAuth.Core.Mailboxes;

/// <summary>
/// Quota sizes as the CLI takes and shows them: plain bytes, or a number with K, M, G or T
/// (binary multiples, as Dovecot reads them: 1K = 1024 bytes); <c>none</c> is no quota.
/// </summary>
public static class QuotaSize
{
    public const string None = "none";

    /// <summary>The bytes <paramref name="text"/> stands for (null for <c>none</c>); <see cref="FormatException"/> with a reason otherwise.</summary>
    public static long? Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Equals(None, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var shift = trimmed.Length == 0 ? 0 : char.ToUpperInvariant(trimmed[^1]) switch
        {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            'T' => 40,
            _ => 0,
        };
        var digits = shift == 0 ? trimmed : trimmed[..^1];
        if (digits.Length is 0 or > 15 || !digits.All(char.IsAsciiDigit))
        {
            throw new FormatException($"invalid size '{Printable(text)}': expected bytes or a number with K, M, G or T (e.g. 500M, 2G), or {None}");
        }
        var number = long.Parse(digits, CultureInfo.InvariantCulture);
        return number <= long.MaxValue >> shift ? number << shift : throw new FormatException($"size '{Printable(text)}' is too large");
    }

    /// <summary>The shortest exact form (<c>2G</c>, <c>1536K</c>, <c>1000</c>), or <c>none</c>.</summary>
    public static string Format(long? bytes)
    {
        if (bytes is not { } value)
        {
            return None;
        }
        foreach (var (suffix, shift) in new[] { ("T", 40), ("G", 30), ("M", 20), ("K", 10) })
        {
            if (value != 0 && value % (1L << shift) == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{value >> shift}{suffix}");
            }
        }
        return value.ToString(CultureInfo.InvariantCulture);
    }

    private static string Printable(string text) => new([.. text.Take(40).Select(c => char.IsControl(c) ? '?' : c)]);
}
