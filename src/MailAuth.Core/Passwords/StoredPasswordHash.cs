using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MailAuth.Core.Passwords;

/// <summary>
/// A stored password hash in Dovecot's <c>{SCHEME}value</c> form, validated strictly: the importer
/// refuses a bad line with <see cref="TryParse"/>'s error, and only validated strings ever reach
/// crypt(3), which would otherwise also accept weak settings such as two-character DES salts.
/// </summary>
internal sealed partial class StoredPasswordHash
{
    public const string SupportedSchemes = "ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, PLAIN";

    /// <summary>Argon2's 2^24 − 1 lane limit.</summary>
    private const long MaxArgon2Lanes = 16_777_215;

    // Canonical encodings leave the unused low bits of the last character at zero, which restricts
    // it to these characters; a hash ending otherwise can never equal crypt's output.
    private const string BcryptSaltLastChars = ".Oeu";
    private const string BcryptHashLastChars = ".CGKOSWaeimquy26";
    private const string Sha512CryptLastChars = "./01";
    private const string Sha256CryptLastChars = "./0123456789ABCD";

    private StoredPasswordHash(PasswordScheme scheme, string value, Argon2Parameters? argon2)
    {
        Scheme = scheme;
        Value = value;
        Argon2 = argon2;
    }

    public PasswordScheme Scheme { get; }

    /// <summary>The part after <c>{SCHEME}</c>: a PHC or crypt(3) string, or the PLAIN password.</summary>
    public string Value { get; }

    /// <summary>The cost parameters of an <c>{ARGON2ID}</c>/<c>{ARGON2I}</c> hash; null for other schemes.</summary>
    public Argon2Parameters? Argon2 { get; }

    /// <summary>The Dovecot name, without braces: <c>ARGON2ID</c>, <c>BLF-CRYPT</c>, …</summary>
    public static string SchemeName(PasswordScheme scheme) => scheme switch
    {
        PasswordScheme.Argon2Id => "ARGON2ID",
        PasswordScheme.Argon2I => "ARGON2I",
        PasswordScheme.BlfCrypt => "BLF-CRYPT",
        PasswordScheme.Sha512Crypt => "SHA512-CRYPT",
        PasswordScheme.Sha256Crypt => "SHA256-CRYPT",
        PasswordScheme.Plain => "PLAIN",
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, null),
    };

    /// <summary>
    /// Parses <c>{SCHEME}value</c> (scheme case-insensitive, <c>{CLEARTEXT}</c> = <c>{PLAIN}</c>), or a
    /// bare value whose <c>$argon2id$</c>, <c>$argon2i$</c>, <c>$2y$</c>/<c>$2b$</c>/<c>$2a$</c>,
    /// <c>$6$</c> or <c>$5$</c> prefix names the scheme. On failure <paramref name="error"/> is one
    /// short sentence, fit to be shown as "line 17: &lt;error&gt;".
    /// </summary>
    public static bool TryParse(
        string? field,
        [NotNullWhen(true)] out StoredPasswordHash? hash,
        [NotNullWhen(false)] out string? error)
    {
        hash = null;
        if (string.IsNullOrEmpty(field))
        {
            error = "the password hash is empty";
            return false;
        }

        if (!TrySplitScheme(field, out var scheme, out string value, out error))
        {
            return false;
        }

        Argon2Parameters? argon2 = null;
        error = value.Length == 0
            ? $"nothing follows {{{SchemeName(scheme)}}}"
            : scheme switch
            {
                PasswordScheme.Argon2Id => ValidateArgon2(value, "argon2id", out argon2),
                PasswordScheme.Argon2I => ValidateArgon2(value, "argon2i", out argon2),
                PasswordScheme.BlfCrypt => ValidateBcrypt(value),
                PasswordScheme.Sha512Crypt => ValidateShaCrypt(value, scheme, '6', 86, Sha512CryptLastChars),
                PasswordScheme.Sha256Crypt => ValidateShaCrypt(value, scheme, '5', 43, Sha256CryptLastChars),
                _ => null,
            };
        if (error is not null)
        {
            return false;
        }

        hash = new StoredPasswordHash(scheme, value, argon2);
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, throwing <see cref="FormatException"/> with the error.</summary>
    public static StoredPasswordHash Parse(string field) =>
        TryParse(field, out var hash, out string? error) ? hash : throw new FormatException(error);

    /// <summary>The canonical <c>{SCHEME}value</c> form (so <c>{cleartext}x</c> becomes <c>{PLAIN}x</c>).</summary>
    public override string ToString() => $"{{{SchemeName(Scheme)}}}{Value}";

    private static bool TrySplitScheme(
        string field, out PasswordScheme scheme, out string value, [NotNullWhen(false)] out string? error)
    {
        scheme = default;
        value = field;
        error = null;
        if (field[0] != '{')
        {
            if (DetectScheme(field) is { } detected)
            {
                scheme = detected;
                return true;
            }

            error = "missing {SCHEME} prefix";
            return false;
        }

        int close = field.IndexOf('}', StringComparison.Ordinal);
        if (close < 0)
        {
            error = "missing '}' after the scheme name";
            return false;
        }

        string name = field[1..close];
        PasswordScheme? named = name.ToUpperInvariant() switch
        {
            "ARGON2ID" => PasswordScheme.Argon2Id,
            "ARGON2I" => PasswordScheme.Argon2I,
            "BLF-CRYPT" => PasswordScheme.BlfCrypt,
            "SHA512-CRYPT" => PasswordScheme.Sha512Crypt,
            "SHA256-CRYPT" => PasswordScheme.Sha256Crypt,
            "PLAIN" or "CLEARTEXT" => PasswordScheme.Plain,
            _ => null,
        };
        if (named is null)
        {
            error = $"unknown scheme {{{name}}}; supported: {SupportedSchemes}";
            return false;
        }

        scheme = named.Value;
        value = field[(close + 1)..];
        return true;
    }

    private static PasswordScheme? DetectScheme(string value) =>
        value.StartsWith("$argon2id$", StringComparison.Ordinal) ? PasswordScheme.Argon2Id
        : value.StartsWith("$argon2i$", StringComparison.Ordinal) ? PasswordScheme.Argon2I
        : value.StartsWith("$2y$", StringComparison.Ordinal)
            || value.StartsWith("$2b$", StringComparison.Ordinal)
            || value.StartsWith("$2a$", StringComparison.Ordinal) ? PasswordScheme.BlfCrypt
        : value.StartsWith("$6$", StringComparison.Ordinal) ? PasswordScheme.Sha512Crypt
        : value.StartsWith("$5$", StringComparison.Ordinal) ? PasswordScheme.Sha256Crypt
        : null;

    private static string? ValidateArgon2(string value, string algorithm, out Argon2Parameters? parameters)
    {
        parameters = null;
        if (!value.StartsWith($"${algorithm}$", StringComparison.Ordinal))
        {
            return $"an {{{algorithm.ToUpperInvariant()}}} hash must start with ${algorithm}$";
        }

        var match = Argon2Regex().Match(value);
        if (!match.Success)
        {
            return $"an argon2 hash must look like ${algorithm}$v=19$m=N,t=N,p=N$salt$hash";
        }

        string version = match.Groups["v"].Value;
        if (version != "19")
        {
            return $"argon2 version v={version} is not supported, only v=19";
        }

        long memory = Number(match, "m"), iterations = Number(match, "t"), lanes = Number(match, "p");
        if (lanes is < 1 or > MaxArgon2Lanes)
        {
            return $"argon2 lanes p={lanes} must be between 1 and {MaxArgon2Lanes}";
        }

        if (iterations is < 1 or > int.MaxValue)
        {
            return $"argon2 iterations t={iterations} must be between 1 and {int.MaxValue}";
        }

        // Argon2 needs 8 KiB per lane; the upper bound keeps one imported hash from costing 4 GiB+ per login.
        if (memory < 8 * lanes || memory > HashingOptions.MaxMemoryKiB)
        {
            return $"argon2 memory m={memory} KiB must be between {8 * lanes} (8 per lane) and {HashingOptions.MaxMemoryKiB}";
        }

        if (DecodedBase64Length(match.Groups["salt"].Value) is not { } saltBytes)
        {
            return "the argon2 salt is not canonical unpadded base64";
        }

        if (saltBytes < 8)
        {
            return "the argon2 salt is shorter than 8 bytes";
        }

        if (DecodedBase64Length(match.Groups["hash"].Value) is not { } hashBytes)
        {
            return "the argon2 hash is not canonical unpadded base64";
        }

        if (hashBytes < 16)
        {
            return "the argon2 hash is shorter than 16 bytes (libsodium's minimum)";
        }

        parameters = new Argon2Parameters((int)memory, (int)iterations, (int)lanes);
        return null;
    }

    private static string? ValidateBcrypt(string value)
    {
        var match = BcryptRegex().Match(value);
        if (!match.Success)
        {
            return "a bcrypt hash must look like $2y$NN$ followed by 53 characters of ./A-Za-z0-9";
        }

        string cost = match.Groups["cost"].Value;
        if (string.CompareOrdinal(cost, "04") < 0 || string.CompareOrdinal(cost, "31") > 0)
        {
            return $"bcrypt cost {cost} is outside 04..31";
        }

        if (!BcryptSaltLastChars.Contains(match.Groups["salt"].Value[^1], StringComparison.Ordinal)
            || !BcryptHashLastChars.Contains(value[^1], StringComparison.Ordinal))
        {
            return "the bcrypt salt or hash is not canonically encoded, so it could never match";
        }

        return null;
    }

    private static string? ValidateShaCrypt(
        string value, PasswordScheme scheme, char id, int hashLength, string lastChars)
    {
        var match = ShaCryptRegex().Match(value);
        if (!match.Success || match.Groups["id"].Value[0] != id || match.Groups["hash"].Length != hashLength)
        {
            return $"a {SchemeName(scheme)} hash must look like ${id}$[rounds=N$]salt$ followed by {hashLength} "
                + "characters of ./0-9A-Za-z, with a salt of at most 16 such characters";
        }

        if (match.Groups["rounds"] is { Success: true } roundsGroup
            && Number(match, "rounds") is < 1000 or > 999_999_999)
        {
            return $"{SchemeName(scheme)} rounds={roundsGroup.Value} is outside 1000..999999999";
        }

        if (!lastChars.Contains(value[^1], StringComparison.Ordinal))
        {
            return $"the {SchemeName(scheme)} hash is not canonically encoded, so it could never match";
        }

        return null;
    }

    private static long Number(Match match, string group) =>
        long.Parse(match.Groups[group].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The decoded length of unpadded base64, or null unless it is the canonical encoding.</summary>
    private static int? DecodedBase64Length(string unpadded)
    {
        if (unpadded.Length % 4 == 1)
        {
            return null;
        }

        string padded = unpadded.PadRight((unpadded.Length + 3) / 4 * 4, '=');
        byte[] bytes = new byte[unpadded.Length * 3 / 4];
        if (!Convert.TryFromBase64String(padded, bytes, out int written)
            || Convert.ToBase64String(bytes, 0, written).TrimEnd('=') != unpadded)
        {
            return null;
        }

        return written;
    }

    // Numbers: no leading zeros (the PHC string format), at most 10 digits so a long holds them.
    [GeneratedRegex(
        @"\A\$argon2(?:id|i)\$v=(?<v>[0-9]{1,10})\$m=(?<m>0|[1-9][0-9]{0,9}),t=(?<t>0|[1-9][0-9]{0,9}),"
        + @"p=(?<p>0|[1-9][0-9]{0,9})\$(?<salt>[A-Za-z0-9+/]+)\$(?<hash>[A-Za-z0-9+/]+)\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex Argon2Regex();

    [GeneratedRegex(
        @"\A\$2[aby]\$(?<cost>[0-9]{2})\$(?<salt>[./A-Za-z0-9]{22})[./A-Za-z0-9]{31}\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex BcryptRegex();

    // libxcrypt refuses rounds with leading zeros and salts with characters outside this alphabet.
    [GeneratedRegex(
        @"\A\$(?<id>[56])\$(?:rounds=(?<rounds>[1-9][0-9]{0,9})\$)?(?<salt>[./0-9A-Za-z]{0,16})\$(?<hash>[./0-9A-Za-z]+)\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex ShaCryptRegex();
}
