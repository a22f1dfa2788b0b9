using System.CommandLine;
using System.Data.Common;
using System.Text.Json;
using MailAuth.Core;
using MailAuth.Core.Passwords;
using MailAuth.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Cli;

/// <summary>Exit codes of every verb (DESIGN.md §4).</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Refused = 1;
    public const int Usage = 2;
}

/// <summary>
/// Runs one CLI verb: builds the services from the configuration, turns every refusal into one
/// line on stderr and the right exit code.
/// </summary>
internal static class CliContext
{
    public static readonly Option<FileInfo?> ConfigOption = new("--config")
    {
        Description = "A JSON settings file layered over config/appsettings.json (beside the program) and /etc/mailauth/appsettings.json",
        Recursive = true,
    };

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Func<ParseResult, CancellationToken, Task<int>> Verb(
        Func<ParseResult, IServiceProvider, CancellationToken, Task<int>> body) =>
        async (parseResult, cancellationToken) =>
        {
            try
            {
                var options = MailAuthConfiguration.BindOptions(Configuration(parseResult));
                MailAuthCoreServices.EnsureHashingAvailable();
                var services = new ServiceCollection()
                    .AddLogging(logging => logging
                        .SetMinimumLevel(LogLevel.Warning)
                        .AddSimpleConsole(console => console.SingleLine = true)
                        .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace))
                    .AddMailAuth(options);
                await using var provider = services.BuildServiceProvider();
                return await body(parseResult, provider, cancellationToken);
            }
            catch (ConfigurationException e)
            {
                return Fail(parseResult, e.Message, ExitCodes.Usage);
            }
            catch (Exception e) when (e is CredentialOperationException or PasswordHashingUnavailableException)
            {
                return Fail(parseResult, e.Message, ExitCodes.Refused);
            }
            catch (DbException e)
            {
                return Fail(parseResult, $"database: {e.Message}", ExitCodes.Refused);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail(parseResult, e.Message, ExitCodes.Refused);
            }
            catch (OperationCanceledException)
            {
                return Fail(parseResult, "interrupted", ExitCodes.Refused);
            }
        };

    /// <summary>The configuration files and environment, with the caller's overrides on top.</summary>
    public static Microsoft.Extensions.Configuration.IConfigurationRoot Configuration(ParseResult parse) =>
        MailAuthConfiguration.Build(parse.GetValue(ConfigOption), CliInvocation.Of(parse).ConfigurationOverrides);

    /// <summary>Where results go (standard output in the program).</summary>
    public static TextWriter Output(this ParseResult parse) => parse.InvocationConfiguration.Output;

    /// <summary>Where errors and progress go (standard error in the program).</summary>
    public static TextWriter Error(this ParseResult parse) => parse.InvocationConfiguration.Error;

    public static int Fail(ParseResult parse, string message, int exitCode) => Fail(parse.Error(), message, exitCode);

    public static int Fail(TextWriter error, string message, int exitCode)
    {
        error.WriteLine("error: " + message);
        return exitCode;
    }
}
