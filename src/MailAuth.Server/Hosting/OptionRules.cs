namespace MailAuth.Server.Hosting;

/// <summary>The range checks the options sections share; each returns the error naming its key, or null.</summary>
internal static class OptionRules
{
    public static string? Port(string key, int port) =>
        port is < 0 or > 65535 ? $"{key} must be between 0 (disabled) and 65535, not {port}" : null;

    public static string? AtLeast(string key, long value, long minimum) =>
        value < minimum ? $"{key} must be at least {minimum}, not {value}" : null;
}
