using Microsoft.Extensions.Configuration;

namespace MailAuth.Server.Hosting;

/// <summary>
/// Configuration sources, weakest first: <c>config/appsettings.json</c> (from the current
/// directory, else the copy beside the executable), the <c>--config FILE</c>, then environment
/// variables (<c>MailAuth__Imap__Port=1143</c>), as systemd units and containers expect.
/// </summary>
internal static class MailAuthConfiguration
{
    public const string DefaultFile = "config/appsettings.json";

    public static IConfigurationRoot Build(FileInfo? configFile)
    {
        var builder = new ConfigurationBuilder();
        var baseFile = FindBaseFile();
        if (baseFile is not null)
        {
            builder.AddJsonFile(baseFile, optional: false, reloadOnChange: false);
        }
        if (configFile is not null)
        {
            if (!configFile.Exists)
            {
                throw new ConfigurationException($"configuration file {configFile.FullName} does not exist");
            }
            builder.AddJsonFile(configFile.FullName, optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables();
        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            // The JSON reader's message, innermost, says where the file is malformed.
            var innermost = e.GetBaseException();
            var reason = innermost == e ? e.Message : $"{e.Message.TrimEnd('.')}: {innermost.Message}";
            throw new ConfigurationException($"cannot read configuration: {reason}");
        }
    }

    /// <summary>Binds and validates the <c>MailAuth</c> section; data directory made absolute.</summary>
    public static MailAuthOptions BindOptions(IConfiguration configuration)
    {
        var options = new MailAuthOptions();
        try
        {
            configuration.GetSection(MailAuthOptions.Section).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException($"invalid configuration: {e.Message}");
        }
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ConfigurationException("invalid configuration: " + string.Join("; ", errors.Select(error => error.TrimEnd('.'))));
        }
        options.DataDirectory = Path.GetFullPath(options.DataDirectory);
        return options;
    }

    private static string? FindBaseFile()
    {
        foreach (var directory in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            var candidate = Path.Combine(directory, DefaultFile);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}

/// <summary>The settings are unusable; the message names the key or file.</summary>
internal sealed class ConfigurationException(string message) : Exception(message);
