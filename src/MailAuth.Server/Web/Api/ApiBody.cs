using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Api;

/// <summary>
/// A request body of the manager API: JSON only (a cross-site form cannot send it without a CORS
/// preflight), one object nested no deeper than 2, its named fields strings (<c>unify</c> a
/// boolean). Its size is bounded before this by Kestrel (<c>MailAuth:Web:MaxRequestBodyBytes</c>,
/// 413 while reading, nothing buffered past it).
/// </summary>
internal sealed class ApiBody
{
    private readonly Dictionary<string, string> _strings;
    private readonly Dictionary<string, bool> _flags;

    private ApiBody(Dictionary<string, string> strings, Dictionary<string, bool> flags)
    {
        _strings = strings;
        _flags = flags;
    }

    /// <summary>A required string field (present: <see cref="ReadAsync"/> checked it).</summary>
    public string this[string name] => _strings[name];

    /// <summary>An optional string field, null when absent or empty after trimming (a 2FA code).</summary>
    public string? Optional(string name) => _strings.TryGetValue(name, out var value) && value.Trim().Length > 0 ? value.Trim() : null;

    public bool Flag(string name) => _flags.TryGetValue(name, out var value) && value;

    /// <summary>
    /// The body, or null once a refusal has been answered (415 not JSON, 400 malformed or a field
    /// missing or of the wrong type). <paramref name="optional"/> names optional strings, <paramref name="flags"/> optional booleans.
    /// </summary>
    public static async Task<ApiBody?> ReadAsync(HttpContext context, string[] required, string[]? optional = null, string[]? flags = null)
    {
        if (!context.Request.HasJsonContentType())
        {
            await WebAnswers.JsonAsync(context, StatusCodes.Status415UnsupportedMediaType,
                new { result = "invalid", message = "send Content-Type: application/json" });
            return null;
        }
        var strings = new Dictionary<string, string>(StringComparer.Ordinal);
        var booleans = new Dictionary<string, bool>(StringComparer.Ordinal);
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 2 }, context.RequestAborted);
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return await InvalidAsync(context, required);
            }
            foreach (var name in required.Concat(optional ?? []))
            {
                var present = root.TryGetProperty(name, out var value);
                if (present && value.ValueKind == JsonValueKind.String)
                {
                    strings[name] = value.GetString()!;
                }
                else if (required.Contains(name) || (present && value.ValueKind != JsonValueKind.Null))
                {
                    return await InvalidAsync(context, required);
                }
            }
            foreach (var name in flags ?? [])
            {
                if (root.TryGetProperty(name, out var value))
                {
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        await WebAnswers.JsonAsync(context, StatusCodes.Status400BadRequest,
                            new { result = "invalid", message = $"{name} must be true or false" });
                        return null;
                    }
                    booleans[name] = value.GetBoolean();
                }
            }
        }
        catch (JsonException)
        {
            await WebAnswers.JsonAsync(context, StatusCodes.Status400BadRequest, new { result = "invalid", message = "the body is not JSON" });
            return null;
        }
        return new ApiBody(strings, booleans);
    }

    private static async Task<ApiBody?> InvalidAsync(HttpContext context, string[] required)
    {
        await WebAnswers.JsonAsync(context, StatusCodes.Status400BadRequest, new
        {
            result = "invalid",
            message = required.Length == 0
                ? "the body must be a JSON object"
                : $"the body must be a JSON object with the strings {string.Join(", ", required)}",
        });
        return null;
    }
}
