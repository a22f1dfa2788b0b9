using System.CommandLine;
using MailAuth.Core.Storage;
using MailAuth.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

/// <summary><c>store copy --to-postgresql CONNECTION</c>: moves a one-machine install's SQLite store into PostgreSQL.</summary>
internal static class StoreCopyCommand
{
    public static Command Create()
    {
        var target = new Option<string>("--to-postgresql")
        {
            Description = "The target: the absolute path of a 0600 file holding the connection string (as MailAuth:Store:ConnectionStringFile), "
                + "or a connection string without its password (the password then comes from PGPASSWORD or a passfile)",
            Required = true,
        };
        var force = new Option<bool>("--force") { Description = "Replace the rows of a PostgreSQL store that is not empty" };
        var copy = new Command("copy", "Copy every table of this data directory's SQLite store into a PostgreSQL store, then check row counts and logins")
        {
            target, force,
        };
        copy.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            if (services.GetRequiredService<StoreDatabase>() is not SqliteDatabase source)
            {
                return CliContext.Fail(parse, "store copy reads a SQLite store, and MailAuth:Store:Provider is postgresql here", ExitCodes.Usage);
            }
            if (ConnectionString(parse.GetRequiredValue(target), out var problem) is not { } connectionString)
            {
                return CliContext.Fail(parse, $"--to-postgresql {problem}", ExitCodes.Usage);
            }
            using var destination = PostgresDatabase.Open(connectionString, services.GetRequiredService<MailAuthOptions>().DataDirectory);
            StoreCopyReport report;
            try
            {
                report = await StoreCopy.ToPostgresAsync(source, destination, parse.GetValue(force), ct);
            }
            catch (StoreCopyException e)
            {
                return CliContext.Fail(parse, e.Message, ExitCodes.Refused);
            }
            foreach (var table in report.Tables)
            {
                await parse.Output().WriteLineAsync($"{table.Name}\t{table.TargetRows}");
            }
            await parse.Output().WriteLineAsync(
                $"copied {report.Tables.Sum(t => t.TargetRows)} rows of {report.Tables.Count} tables into {destination.Description}; "
                + $"row counts match, and {report.CredentialsCompared} mailbox logins read the same credentials from both stores");
            return ExitCodes.Success;
        }));
        return new Command("store", "The store as a whole") { copy };
    }

    /// <summary>
    /// The connection string CONNECTION names. A password never comes from the command line (any
    /// user can read another's arguments in /proc): from a private file, or from libpq's own places.
    /// </summary>
    private static string? ConnectionString(string connection, out string problem)
    {
        if (Path.IsPathFullyQualified(connection))
        {
            if (StoreOptions.CheckFile(connection) is { } fileProblem)
            {
                problem = fileProblem;
                return null;
            }
            var text = File.ReadAllText(connection).Trim();
            return Checked(text, passwordAllowed: true, out problem);
        }
        return Checked(connection, passwordAllowed: false, out problem);
    }

    private static string? Checked(string connectionString, bool passwordAllowed, out string problem)
    {
        var problems = PostgresConnectionString.Check(connectionString, passwordAllowed);
        problem = problems.Count > 0 ? problems[0] : "";
        return problems.Count > 0 ? null : connectionString;
    }
}
