using System.CommandLine;
using System.Text;
using MailAuth.Core.Addresses;
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
            // Only a bare "-" means standard input; "./-" is a file of that name. Standard input is
            // read twice (addresses first, see below), so it is kept in memory.
            using var input = new MemoryStream();
            if (path == "-")
            {
                await using var standardInput = CliInvocation.Of(parse).OpenInput();
                await standardInput.CopyToAsync(input, ct);
            }
            StreamReader Open() => path == "-"
                ? new StreamReader(new MemoryStream(input.GetBuffer(), 0, (int)input.Length, writable: false), Encoding.UTF8)
                : OpenFile(new FileInfo(path));

            // New mailboxes never adopt mail left at their Maildir path (see MailboxCommands.SetAsideLeftoverMail),
            // moved before the import writes any row. Addresses that end up not imported (invalid
            // lines) have no mailbox either, so moving their leftovers aside loses nobody's mail.
            var existing = (await services.GetRequiredService<IMailboxDirectory>().ListMailboxesAsync(null, ct)).Select(m => m.Address).ToHashSet();
            using (var scan = Open())
            {
                foreach (var address in await AddressesInAsync(scan, ct))
                {
                    if (!existing.Contains(address))
                    {
                        MailboxCommands.SetAsideLeftoverMail(parse.Output(), services, address);
                    }
                }
            }

            using var reader = Open();
            var report = await services.GetRequiredService<PasswdFileImporter>()
                .ImportAsync(reader, options, new StderrProgress(parse.Error()), ct);
            foreach (var skipped in report.Skipped)
            {
                await parse.Error().WriteLineAsync($"skipped {skipped}");
            }
            await parse.Output().WriteLineAsync(
                $"imported {report.Imported} mailbox(es); {report.HashedFromPlain} {{PLAIN}} password(s) hashed now; {report.Skipped.Count} line(s) skipped");
            return ExitCodes.Success;
        }));
        return import;
    }

    /// <summary>The valid addresses of a passwd-file's lines (the field before the first ':'), as the importer reads them.</summary>
    private static async Task<HashSet<EmailAddress>> AddressesInAsync(TextReader file, CancellationToken cancellationToken)
    {
        var addresses = new HashSet<EmailAddress>();
        var reader = new BoundedLineReader(file, PasswdFileImporter.MaxLineLength);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Text is not { Length: > 0 } text || text[0] == '#')
            {
                continue;
            }
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && AddressNormalizer.TryNormalize(text[..colon], out var address, out _))
            {
                addresses.Add(address);
            }
        }
        return addresses;
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
    private sealed class StderrProgress(TextWriter error) : IProgress<ImportProgress>
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
                error.WriteLine(value.Total > 0 ? $"{phase}: {value.Done}/{value.Total}" : $"{phase}: {value.Done} lines");
            }
        }
    }
}
