using System.Text.Json;
using System.Text.Json.Serialization;
using MailAuth.Core.Passwords;

namespace MailAuth.Bench;

/// <summary>Reads <c>MailAuth:Hashing</c> from an appsettings.json file, which has // comments.</summary>
internal static class HashingConfig
{
    private const string DefaultPath = "config/appsettings.json";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        // .NET configuration keys are case-insensitive and its values may be strings.
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>The options and where they came from (a file, or the built-in defaults).</summary>
    public static (HashingOptions Options, string Source) Load(string? explicitPath)
    {
        string? path = explicitPath ?? FindUpwards(Directory.GetCurrentDirectory());
        if (path is null)
        {
            return (new HashingOptions(), $"built-in defaults ({DefaultPath} not found)");
        }

        try
        {
            var file = JsonSerializer.Deserialize<ConfigFile>(File.ReadAllText(path), JsonOptions);
            return (file?.MailAuth?.Hashing ?? new HashingOptions(), Path.GetRelativePath(Directory.GetCurrentDirectory(), path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new ConfigurationFileException($"cannot read {path}: {e.Message}", e);
        }
    }

    private static string? FindUpwards(string directory)
    {
        for (var current = new DirectoryInfo(directory); current is not null; current = current.Parent)
        {
            string candidate = Path.Combine(current.FullName, DefaultPath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private sealed record ConfigFile(MailAuthSection? MailAuth);

    private sealed record MailAuthSection(HashingOptions? Hashing);
}

internal sealed class ConfigurationFileException(string message, Exception inner) : Exception(message, inner);
