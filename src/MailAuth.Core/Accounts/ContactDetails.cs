using System.Globalization;
using System.Text;
using MailAuth.Core.Addresses;

namespace MailAuth.Core.Accounts;

/// <summary>Validation and normal forms of what an account holder gives us to reach them.</summary>
internal static class ContactDetails
{
    private const int MaxNameLength = 100;

    /// <summary>
    /// A mobile number in international form: "+" and 8 to 15 digits (E.164); spaces, dots, dashes
    /// and parentheses as people write them are dropped.
    /// </summary>
    public static string NormalizePhone(string phone)
    {
        var digits = new StringBuilder();
        var trimmed = phone.Trim();
        if (!trimmed.StartsWith('+'))
        {
            throw new CredentialOperationException("the phone number must be in international form, starting with + and the country code");
        }
        foreach (var c in trimmed[1..])
        {
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
            }
            else if (c is not (' ' or '.' or '-' or '(' or ')'))
            {
                throw new CredentialOperationException($"the phone number may not contain '{c}'");
            }
        }
        if (digits.Length is < 8 or > 15)
        {
            throw new CredentialOperationException("the phone number must have 8 to 15 digits after the +");
        }
        return "+" + digits;
    }

    public static string NormalizeName(string name)
    {
        var trimmed = name.Trim();
        if (trimmed.Length == 0 || trimmed.Length > MaxNameLength || trimmed.Any(char.IsControl))
        {
            throw new CredentialOperationException($"the holder's name must be 1 to {MaxNameLength} characters on one line");
        }
        return trimmed;
    }

    public static EmailAddress NormalizeEmail(string email, string what) =>
        AddressNormalizer.TryNormalize(email, out var address, out var error)
            ? address
            : throw new CredentialOperationException($"invalid {what} '{AddressNormalizer.Printable(email)}': {error}");

    /// <summary>
    /// The letters of a recovery username: the first letter of each part of the holder's name,
    /// accents dropped ("Émilie Dupont-Roux" → "edr"), or "x" when the name has no Latin letter.
    /// </summary>
    public static string Initials(string name)
    {
        var initials = new StringBuilder();
        foreach (var part in name.Split([' ', '-', '\'', '.'], StringSplitOptions.RemoveEmptyEntries))
        {
            var first = part.Normalize(NormalizationForm.FormD)
                .FirstOrDefault(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark);
            if (char.IsAsciiLetter(first))
            {
                initials.Append(char.ToLowerInvariant(first));
            }
        }
        return initials.Length == 0 ? "x" : initials.ToString(0, Math.Min(initials.Length, 4));
    }
}
