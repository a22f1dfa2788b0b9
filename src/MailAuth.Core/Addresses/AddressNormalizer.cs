using System.Globalization;
using System.Text;

namespace MailAuth.Core.Addresses;

/// <summary>
/// Turns what a user typed into the one canonical form used for storage and lookup.
/// Local parts are compared case-insensitively (as mail providers do, although RFC 5321 §2.4
/// allows otherwise); quoted local parts and address literals are refused rather than guessed at.
/// </summary>
public static class AddressNormalizer
{
    // RFC 5321 §4.5.3.1: local part 64 octets, domain 255 (253 in text form), path 256
    // including the angle brackets, hence 254 for the address itself.
    private const int MaxLocalPartOctets = 64;
    private const int MaxDomainOctets = 253;
    private const int MaxLabelOctets = 63;
    private const int MaxAddressOctets = 254;

    private const string AtextSpecials = "!#$%&'*+-/=?^_`{|}~";

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    public static bool TryNormalize(string? input, out EmailAddress address, out string error)
    {
        address = null!;
        if (string.IsNullOrEmpty(input))
        {
            error = "the address is empty";
            return false;
        }
        if (input.Length > MaxAddressOctets * 4)
        {
            error = $"the address is longer than {MaxAddressOctets} octets";
            return false;
        }
        if (input[0] == '"')
        {
            error = "quoted local parts are not supported";
            return false;
        }
        foreach (var c in input)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                error = "the address contains spaces or control characters";
                return false;
            }
        }

        var at = input.LastIndexOf('@');
        if (at < 0)
        {
            error = "the address has no '@'";
            return false;
        }
        if (input.IndexOf('@') != at)
        {
            error = "the address has more than one '@'";
            return false;
        }

        if (!TryNormalizeLocalPart(input[..at], out var localPart, out error) ||
            !TryNormalizeDomain(input[(at + 1)..], out var domain, out error))
        {
            return false;
        }
        if (Encoding.UTF8.GetByteCount(localPart) + 1 + domain.Length > MaxAddressOctets)
        {
            error = $"the address is longer than {MaxAddressOctets} octets";
            return false;
        }

        address = new EmailAddress(localPart, domain);
        error = "";
        return true;
    }

    /// <summary>Normalises a domain name to lower-case ASCII (IDNA 2008 / UTS #46 via <see cref="IdnMapping"/>).</summary>
    public static bool TryNormalizeDomain(string? input, out string domain, out string error)
    {
        domain = "";
        if (string.IsNullOrEmpty(input))
        {
            error = "the domain is empty";
            return false;
        }
        if (input.StartsWith('['))
        {
            error = "address literals such as [192.0.2.1] are not supported";
            return false;
        }
        if (input.EndsWith('.'))
        {
            error = "the domain ends with a dot";
            return false;
        }
        foreach (var c in input)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                error = "the domain contains spaces or control characters";
                return false;
            }
        }

        // The ASCII form is never shorter than the input, so these limits can be checked first.
        if (input.Length > MaxDomainOctets)
        {
            error = $"the domain is longer than {MaxDomainOctets} octets";
            return false;
        }
        foreach (var label in input.Split('.'))
        {
            if (label.Length == 0)
            {
                error = "the domain has an empty label (two dots in a row or a leading dot)";
                return false;
            }
            if (label.Length > MaxLabelOctets)
            {
                error = $"the domain has a label longer than {MaxLabelOctets} octets";
                return false;
            }
        }

        string ascii;
        try
        {
            // UTS #46 mapping through ICU: case folding, width and compatibility forms, then Punycode.
            ascii = Idn.GetAscii(input).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            error = "the domain is not a valid (internationalised) domain name";
            return false;
        }

        if (ascii.Length > MaxDomainOctets)
        {
            error = $"the domain is longer than {MaxDomainOctets} octets";
            return false;
        }
        var labels = ascii.Split('.');
        if (labels.Length < 2)
        {
            error = "the domain needs at least two labels (like example.org)";
            return false;
        }
        foreach (var label in labels)
        {
            if (label.Length is 0 or > MaxLabelOctets)
            {
                error = $"the domain has a label longer than {MaxLabelOctets} octets once converted to ASCII";
                return false;
            }
            if (label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                error = "the domain may only hold letters, digits and inner hyphens in each label";
                return false;
            }
        }
        if (labels[^1].All(char.IsAsciiDigit))
        {
            error = "the domain's last label is numeric (an IP address is not a mail domain)";
            return false;
        }

        domain = ascii;
        error = "";
        return true;
    }

    private static bool TryNormalizeLocalPart(string input, out string localPart, out string error)
    {
        localPart = "";
        if (input.Length == 0)
        {
            error = "the local part (before '@') is empty";
            return false;
        }
        if (input[0] == '.' || input[^1] == '.' || input.Contains("..", StringComparison.Ordinal))
        {
            error = "the local part may not start or end with a dot or hold two dots in a row";
            return false;
        }
        foreach (var rune in input.EnumerateRunes())
        {
            // RFC 5322 atext plus dots; RFC 6531 adds any non-ASCII character except controls.
            var ok = rune.IsAscii
                ? Rune.IsLetterOrDigit(rune) || rune.Value == '.' || AtextSpecials.Contains((char)rune.Value)
                : !Rune.IsControl(rune) && !Rune.IsWhiteSpace(rune) && rune.Value != 0xFFFD;
            if (!ok)
            {
                error = $"the local part may not contain '{rune}'";
                return false;
            }
        }

        var lower = input.ToLowerInvariant().Normalize(NormalizationForm.FormC);
        if (Encoding.UTF8.GetByteCount(lower) > MaxLocalPartOctets)
        {
            error = $"the local part is longer than {MaxLocalPartOctets} octets";
            return false;
        }
        localPart = lower;
        error = "";
        return true;
    }

    /// <summary>The input made safe for one log line or error message: short, no control characters.</summary>
    public static string Printable(string? input)
    {
        if (input is null)
        {
            return "";
        }
        var text = input.Length > 80 ? input[..80] + "…" : input;
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? '?' : c);
        }
        return builder.ToString();
    }
}
