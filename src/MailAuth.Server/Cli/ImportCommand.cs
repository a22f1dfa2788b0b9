using System.CommandLine;
using System.Text;
using MailAuth.Core.Mailboxes;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

internal static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "Dovecot passwd-file: address:{SCHEME}hash[:...] per line ('-' for stdin)" };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Import the valid lines and report the others, instead of refusing the whole file" };
        var createDomains = new Option<bool>("--create-domains") { Description = "Add missing domains instead of refusing their mailboxes" };
        var replaceExisting = new Option<bool>("--replace-existing") { Description = "Overwrite the password of mailboxes that already exist" };
        var import = new Command("import", "Import mailboxes with their existing hashes, all or nothing") { file, skipInvalid, createDomains, replaceExisting };

        import.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var path = parse.GetRequiredValue(file);
            var options = new ImportOptions(parse.GetValue(skipInvalid), parse.GetValue(createDomains), parse.GetValue(replaceExisting));
            // Only a bare "-" means standard input; "./-" is a file of that name.
            using var reader = path == "-"
                ? new StreamReader(Console.OpenStandardInput(), Encoding.UTF8)
                : OpenFile(new FileInfo(path));
            var report = await services.GetRequiredService<PasswdFileImporter>()
                .ImportAsync(reader, options, new StderrProgress(), ct);
            foreach (var skipped in report.Skipped)
            {
                Console.Error.WriteLine($"skipped {skipped}");
            }
            Console.WriteLine(
                $"imported {report.Imported} mailbox(es); {report.HashedFromPlain} {{PLAIN}} password(s) hashed now; {report.Skipped.Count} line(s) skipped");
            return ExitCodes.Success;
        }));
        return import;
    }

    private static StreamReader OpenFile(FileInfo path)
    {
        if (!path.Exists)
        {
            throw new IOException($"cannot read {path.FullName}: no such file");
        }
        return new StreamReader(path.FullName, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
    }

    /// <summary>Progress for large files on stderr, so that stdout stays the result alone.</summary>
    private sealed class StderrProgress : IProgress<ImportProgress>
    {
        // Reports come from several threads while {PLAIN} passwords are hashed.
        private readonly Lock _lock = new();
        private long _lastReport = Environment.TickCount64;
        private ImportProgress? _lastPrinted;

        public void Report(ImportProgress value)
        {
            lock (_lock)
            {
                var now = Environment.TickCount64;
                var finished = value.Total > 0 && value.Done == value.Total;
                // The store reports its last batch and then the commit with the same count: print it once.
                if (value == _lastPrinted || (now - _lastReport < 1000 && !(finished && value.Total >= 10_000)))
                {
                    return;
                }
                _lastReport = now;
                _lastPrinted = value;
                var phase = value.Phase switch
                {
                    ImportPhase.Reading => "read",
                    ImportPhase.Hashing => "hashed {PLAIN}",
                    _ => "written",
                };
                Console.Error.WriteLine(value.Total > 0 ? $"{phase}: {value.Done}/{value.Total}" : $"{phase}: {value.Done} lines");
            }
        }
    }
}
