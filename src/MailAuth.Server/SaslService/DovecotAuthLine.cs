using System.Globalization;
using System.Text;

namespace MailAuth.Server.SaslService;

internal enum DovecotAuthCommandKind
{
    Version,
    Cpid,
    Auth,
    Cont,
}

/// <summary>One parsed client line of the Dovecot auth protocol (v1.x), or why it could not be parsed.</summary>
internal sealed record DovecotAuthLine(
    DovecotAuthCommandKind Kind,
    uint Id,
    string Mechanism,
    IReadOnlyDictionary<string, string> Parameters,
    bool HasResponse,
    string Response,
    int MajorVersion)
{
    public bool Has(string flag) => Parameters.ContainsKey(flag);

    public string? Get(string key) => Parameters.TryGetValue(key, out var value) ? value : null;
}

/// <summary>The outcome of parsing a line: a command, a refusal tied to a request id, or a line to close on.</summary>
internal readonly record struct DovecotParseResult(DovecotAuthLine? Line, uint? FailId, string? Error)
{
    public static DovecotParseResult Ok(DovecotAuthLine line) => new(line, null, null);

    public static DovecotParseResult FailRequest(uint id, string error) => new(null, id, error);

    public static DovecotParseResult Fatal(string error) => new(null, null, error);
}

/// <summary>
/// Tokenises client lines of the Dovecot authentication protocol: TAB-separated fields, the command
/// first. Pure: no I/O, so the tests drive it with tables of inputs.
/// </summary>
internal static class DovecotAuthParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static DovecotParseResult Parse(ReadOnlySpan<byte> bytes)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return DovecotParseResult.Fatal("the line is not UTF-8");
        }
        var fields = text.Split('\t');
        return fields[0] switch
        {
            "VERSION" => ParseVersion(fields),
            "CPID" => fields.Length >= 2 && uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)
                ? DovecotParseResult.Ok(Command(DovecotAuthCommandKind.Cpid))
                : DovecotParseResult.Fatal("CPID needs a process id"),
            "AUTH" => ParseAuth(fields),
            "CONT" => ParseCont(fields),
            _ => DovecotParseResult.Fatal("unknown command"),
        };
    }

    private static DovecotAuthLine Command(DovecotAuthCommandKind kind, int major = 0) =>
        new(kind, 0, "", new Dictionary<string, string>(), false, "", major);

    private static DovecotParseResult ParseVersion(string[] fields)
    {
        if (fields.Length < 3
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return DovecotParseResult.Fatal("VERSION needs a major and a minor number");
        }
        return DovecotParseResult.Ok(Command(DovecotAuthCommandKind.Version, major));
    }

    private static bool TryParseId(string[] fields, out uint id) =>
        uint.TryParse(fields.Length > 1 ? fields[1] : "", NumberStyles.None, CultureInfo.InvariantCulture, out id);

    /// <summary><c>AUTH id mech [key=value | flag]… [resp=base64]</c>; resp must be the last parameter.</summary>
    private static DovecotParseResult ParseAuth(string[] fields)
    {
        if (!TryParseId(fields, out var id))
        {
            return DovecotParseResult.Fatal("AUTH needs a numeric request id");
        }
        if (fields.Length < 3 || fields[2].Length == 0)
        {
            return DovecotParseResult.FailRequest(id, "AUTH needs a mechanism");
        }
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var hasResponse = false;
        var response = "";
        for (var i = 3; i < fields.Length; i++)
        {
            var field = fields[i];
            if (hasResponse)
            {
                return DovecotParseResult.FailRequest(id, "resp= must be the last parameter");
            }
            var equals = field.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? field : field[..equals];
            var value = equals < 0 ? "" : field[(equals + 1)..];
            if (key.Length == 0)
            {
                return DovecotParseResult.FailRequest(id, "empty parameter name");
            }
            if (key == "resp")
            {
                if (equals < 0)
                {
                    return DovecotParseResult.FailRequest(id, "resp needs a value (resp=base64)");
                }
                hasResponse = true;
                response = value;
                continue;
            }
            parameters[key] = value;
        }
        if (!parameters.TryGetValue("service", out var service) || service.Length == 0)
        {
            return DovecotParseResult.FailRequest(id, "AUTH needs service=");
        }
        return DovecotParseResult.Ok(new DovecotAuthLine(DovecotAuthCommandKind.Auth, id, fields[2], parameters, hasResponse, response, 0));
    }

    /// <summary><c>CONT id base64</c>.</summary>
    private static DovecotParseResult ParseCont(string[] fields)
    {
        if (!TryParseId(fields, out var id))
        {
            return DovecotParseResult.Fatal("CONT needs a numeric request id");
        }
        if (fields.Length != 3)
        {
            return DovecotParseResult.FailRequest(id, "CONT needs exactly one response");
        }
        return DovecotParseResult.Ok(new DovecotAuthLine(DovecotAuthCommandKind.Cont, id, "", new Dictionary<string, string>(), true, fields[2], 0));
    }
}
