using Microsoft.Extensions.Configuration;

namespace MailAuth.Server.Hosting;

/// <summary>
/// Configuration sources, weakest first: <c>config/appsettings.json</c> beside the executable
/// (every setting with its default), <c>/etc/mailauth/appsettings.json</c> when it exists, the
/// <c>--config FILE</c>, then environment variables (<c>MailAuth__Imap__Port=1143</c>), as systemd
/// units and containers expect. Never a file in the current directory: anyone who can write
/// where an admin happens to run a command could move the data directory or add trusted networks.
/// </summary>
internal static class MailAuthConfiguration
{
    public const string DefaultFile = "config/appsettings.json";

    public const string SystemFile = "/etc/mailauth/appsettings.json";

    public static IConfigurationRoot Build(FileInfo? configFile) => Build(configFile, SystemFile);

    /// <param name="configFile">The <c>--config</c> file, if any.</param>
    /// <param name="overrides">Keys over every other source, from a caller that runs the command line in its own process.</param>
    public static IConfigurationRoot Build(FileInfo? configFile, IReadOnlyDictionary<string, string?> overrides) =>
        Build(configFile, SystemFile, overrides);

    /// <param name="configFile">The <c>--config</c> file, if any.</param>
    /// <param name="systemFile">The host's own settings, read when the file exists; tests name one of theirs.</param>
    /// <param name="overrides">Keys over every other source; none for the program.</param>
    public static IConfigurationRoot Build(FileInfo? configFile, string systemFile, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder();
        foreach (var file in new[] { Path.Combine(AppContext.BaseDirectory, DefaultFile), systemFile })
        {
            if (File.Exists(file))
            {
                builder.AddJsonFile(file, optional: false, reloadOnChange: false);
            }
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
        if (overrides is { Count: > 0 })
        {
            builder.AddInMemoryCollection(overrides);
        }
        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
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
        var options = Bind(configuration);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw ConfigurationException.Invalid(errors);
        }
        options.DataDirectory = Path.GetFullPath(options.DataDirectory);
        return options;
    }

    /// <summary>Binds the <c>MailAuth</c> section without validating it (<c>config check</c> lists each problem).</summary>
    public static MailAuthOptions Bind(IConfiguration configuration)
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
        return options;
    }
}

/// <summary>The settings are unusable; the message names the key or file.</summary>
internal sealed class ConfigurationException(string message) : Exception(message)
{
    /// <summary>Every invalid setting at once, in one line, so that one start-up shows all that needs fixing.</summary>
    public static ConfigurationException Invalid(IEnumerable<string> errors) =>
        new("invalid configuration: " + string.Join("; ", errors.Select(error => error.TrimEnd('.'))));
}
