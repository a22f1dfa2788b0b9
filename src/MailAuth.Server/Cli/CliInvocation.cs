using System.CommandLine;

namespace MailAuth.Server.Cli;

/// <summary>
/// Where one run of the command line reads and writes, and the settings its caller layers over the
/// configuration files and environment. The program uses its own console and adds nothing; a caller
/// that hosts the command line in its own process gives its own streams and settings.
/// </summary>
internal sealed class CliInvocation : InvocationConfiguration
{
    /// <summary>Passwords, one line each.</summary>
    public TextReader Input { get; init; } = Console.In;

    /// <summary>The bytes of <c>import -</c>.</summary>
    public Func<Stream> OpenInput { get; init; } = Console.OpenStandardInput;

    /// <summary>False on a terminal, where passwords are prompted for without echo.</summary>
    public Func<bool> InputIsRedirected { get; init; } = () => Console.IsInputRedirected;

    /// <summary>Configuration keys (<c>MailAuth:Imap:Port</c>) over every other source.</summary>
    public IReadOnlyDictionary<string, string?> ConfigurationOverrides { get; init; } = new Dictionary<string, string?>();

    public static CliInvocation Of(ParseResult parse) =>
        parse.InvocationConfiguration as CliInvocation ?? throw new InvalidOperationException("the command line runs through CommandLine.RunAsync");
}
