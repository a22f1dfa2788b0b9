using System.CommandLine;
using MailAuth.Server.Hosting;

namespace MailAuth.Server.Cli;

/// <summary><c>config check</c>: what <c>serve</c> would refuse or warn about, without starting it.</summary>
internal static class ConfigCommands
{
    public static Command Create()
    {
        var config = new Command("config", "Check the configuration");
        var check = new Command(
            "check",
            "Validate the settings and what they name (certificate dates, names and key, data directory owner and permissions, store, ports): one line per problem on stderr, exit 2 on any");
        check.SetAction(async (parse, cancellationToken) =>
        {
            MailAuthOptions options;
            try
            {
                options = MailAuthConfiguration.Bind(CliContext.Configuration(parse));
            }
            catch (ConfigurationException e)
            {
                return CliContext.Fail(parse, e.Message, ExitCodes.Usage);
            }
            var notices = new List<string>();
            var problems = options.Validate().Select(error => "error: invalid configuration: " + error.TrimEnd('.')).ToList();
            if (problems.Count == 0)
            {
                // The files and ports are looked at only when the settings naming them are valid.
                options.DataDirectory = Path.GetFullPath(options.DataDirectory);
                var findings = await ConfigurationCheck.RunAsync(options, TimeProvider.System, serveHoldsLock: false, cancellationToken);
                problems.AddRange(findings.Where(finding => finding.Severity != CheckSeverity.Notice)
                    .Select(finding => (finding.Severity == CheckSeverity.Warning ? "warning: " : "error: ") + finding.Text));
                notices.AddRange(findings.Where(finding => finding.Severity == CheckSeverity.Notice).Select(finding => "warning: " + finding.Text));
            }
            foreach (var line in problems.Concat(notices))
            {
                await parse.Error().WriteLineAsync(line);
            }
            if (problems.Count > 0)
            {
                return ExitCodes.Usage;
            }
            await parse.Output().WriteLineAsync($"configuration OK (data directory {options.DataDirectory})");
            return ExitCodes.Success;
        });
        config.Add(check);
        return config;
    }
}
