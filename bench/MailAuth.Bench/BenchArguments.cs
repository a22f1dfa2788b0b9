using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace MailAuth.Bench;

/// <summary>The options after the <c>argon2</c> verb; null means "from the configuration".</summary>
internal sealed record BenchArguments(TimeSpan Duration, int? MemoryKiB, int? Iterations, string? ConfigFile)
{
    public static bool TryParse(
        IReadOnlyList<string> args, [NotNullWhen(true)] out BenchArguments? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        error = null;
        var parsed = new BenchArguments(TimeSpan.FromSeconds(5), null, null, null);
        for (int i = 0; i < args.Count; i += 2)
        {
            string name = args[i];
            if (i + 1 >= args.Count)
            {
                error = $"{name} needs a value";
                return false;
            }

            string value = args[i + 1];
            switch (name)
            {
                case "--seconds" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0:
                    parsed = parsed with { Duration = TimeSpan.FromSeconds(s) };
                    break;
                case "--memory-kib" when int.TryParse(value, CultureInfo.InvariantCulture, out int m):
                    parsed = parsed with { MemoryKiB = m };
                    break;
                case "--iterations" when int.TryParse(value, CultureInfo.InvariantCulture, out int t):
                    parsed = parsed with { Iterations = t };
                    break;
                case "--config":
                    parsed = parsed with { ConfigFile = value };
                    break;
                case "--seconds" or "--memory-kib" or "--iterations":
                    error = $"{name} {value}: not a valid number";
                    return false;
                default:
                    error = $"unknown option {name}";
                    return false;
            }
        }

        result = parsed;
        return true;
    }
}
