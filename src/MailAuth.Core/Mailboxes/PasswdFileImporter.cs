using MailAuth.Core.Addresses;
using MailAuth.Core.Passwords;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Mailboxes;

public sealed record ImportOptions(bool SkipInvalid, bool CreateDomains, bool ReplaceExisting);

public sealed record ImportLineError(int LineNumber, string Reason)
{
    public override string ToString() => $"line {LineNumber}: {Reason}";
}

public sealed record ImportReport(int Imported, int HashedFromPlain, IReadOnlyList<ImportLineError> Skipped);

/// <summary>An import refused as a whole; nothing was written.</summary>
public sealed class ImportRefusedException(IReadOnlyList<ImportLineError> errors)
    : CredentialOperationException(
        $"import refused, nothing written: {errors.Count} invalid line(s); first: {errors[0]} (use --skip-invalid to import the rest)")
{
    public IReadOnlyList<ImportLineError> Errors { get; } = errors;
}

public enum ImportPhase
{
    Reading,
    Hashing,
    Writing,
}

public readonly record struct ImportProgress(ImportPhase Phase, int Done, int Total);

/// <summary>
/// Reads Dovecot passwd-file lines (<c>user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]</c>) and
/// imports them in one transaction. Hashes are kept as they are and upgraded at the next login;
/// a <c>{PLAIN}</c> password is hashed now, because no plaintext is ever stored.
/// </summary>
public sealed partial class PasswdFileImporter(
    IMailboxDirectory directory,
    IPasswordHasher hasher,
    ILogger<PasswdFileImporter> logger)
{
    /// <summary>Far above any real line (an Argon2id entry is ~130 characters); refuses binary junk early.</summary>
    public const int MaxLineLength = 4096;

    public async Task<ImportReport> ImportAsync(
        TextReader file, ImportOptions options, IProgress<ImportProgress>? progress, CancellationToken cancellationToken)
    {
        var errors = new List<ImportLineError>();
        var entries = new List<(int Line, EmailAddress Address, StoredPasswordHash Hash)>();
        var firstLineOf = new Dictionary<EmailAddress, int>();

        var reader = new BoundedLineReader(file, MaxLineLength);
        var lineNumber = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            if (lineNumber % 10_000 == 0)
            {
                progress?.Report(new ImportProgress(ImportPhase.Reading, lineNumber, 0));
            }
            if (line.Text is null)
            {
                errors.Add(new ImportLineError(lineNumber, $"the line is longer than {MaxLineLength} characters"));
                continue;
            }
            if (ParseLine(line.Text, out var address, out var hash) is { } reason)
            {
                errors.Add(new ImportLineError(lineNumber, reason));
                continue;
            }
            if (address is null)
            {
                continue; // blank or comment
            }
            if (!firstLineOf.TryAdd(address, lineNumber))
            {
                errors.Add(new ImportLineError(lineNumber, $"{address} already appears on line {firstLineOf[address]}"));
                continue;
            }
            entries.Add((lineNumber, address, hash!));
        }

        await CheckAgainstStoreAsync(entries, options, errors, cancellationToken);

        if (errors.Count > 0 && !options.SkipInvalid)
        {
            errors.Sort((a, b) => a.LineNumber.CompareTo(b.LineNumber));
            throw new ImportRefusedException(errors);
        }
        var invalidLines = errors.Select(e => e.LineNumber).ToHashSet();
        var valid = entries.Where(e => !invalidLines.Contains(e.Line)).ToList();

        var stored = HashPlainPasswords(valid, progress, cancellationToken, out var hashedFromPlain);
        await directory.ImportAsync(
            stored,
            options.CreateDomains,
            options.ReplaceExisting,
            progress is null ? null : new WritingProgress(progress, stored.Count),
            cancellationToken);

        errors.Sort((a, b) => a.LineNumber.CompareTo(b.LineNumber));
        LogImported(stored.Count, hashedFromPlain, errors.Count);
        return new ImportReport(stored.Count, hashedFromPlain, errors);
    }

    /// <summary>Null when the line is fine (address null for a blank or comment line), else the reason.</summary>
    private static string? ParseLine(string line, out EmailAddress? address, out StoredPasswordHash? hash)
    {
        address = null;
        hash = null;
        if (line.Length == 0 || line[0] == '#' || string.IsNullOrWhiteSpace(line))
        {
            return null;
        }
        var fields = line.Split(':');
        if (fields.Length < 2)
        {
            return "expected 'address:{SCHEME}hash'";
        }
        if (!AddressNormalizer.TryNormalize(fields[0], out var parsed, out var addressError))
        {
            return $"'{AddressNormalizer.Printable(fields[0])}' is not a valid address: {addressError}";
        }
        if (!StoredPasswordHash.TryParse(fields[1], out var parsedHash, out var hashError))
        {
            return hashError;
        }
        if (parsedHash.Scheme == PasswordScheme.Plain)
        {
            try
            {
                PasswordPolicy.EnsureAcceptable(parsedHash.Value);
            }
            catch (CredentialOperationException e)
            {
                return e.Message;
            }
        }
        address = parsed;
        hash = parsedHash;
        return null;
    }

    private async Task CheckAgainstStoreAsync(
        List<(int Line, EmailAddress Address, StoredPasswordHash Hash)> entries,
        ImportOptions options,
        List<ImportLineError> errors,
        CancellationToken cancellationToken)
    {
        var domains = (await directory.ListDomainsAsync(cancellationToken)).Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var existing = options.ReplaceExisting
            ? []
            : (await directory.ListMailboxesAsync(null, cancellationToken)).Select(m => m.Address).ToHashSet();
        foreach (var (line, address, _) in entries)
        {
            if (!options.CreateDomains && !domains.Contains(address.Domain))
            {
                errors.Add(new ImportLineError(line, $"domain {address.Domain} does not exist (add it, or pass --create-domains)"));
            }
            else if (existing.Contains(address))
            {
                errors.Add(new ImportLineError(line, $"mailbox {address} already exists (pass --replace-existing to overwrite its password)"));
            }
        }
    }

    private List<ImportedMailbox> HashPlainPasswords(
        List<(int Line, EmailAddress Address, StoredPasswordHash Hash)> entries,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken,
        out int hashedFromPlain)
    {
        var result = new ImportedMailbox[entries.Count];
        var plainTotal = entries.Count(e => e.Hash.Scheme == PasswordScheme.Plain);
        var plainDone = 0;
        Parallel.For(
            0,
            entries.Count,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            i =>
            {
                var (_, address, hash) = entries[i];
                if (hash.Scheme != PasswordScheme.Plain)
                {
                    result[i] = new ImportedMailbox(address, hash.ToString());
                    return;
                }
                result[i] = new ImportedMailbox(address, hasher.Hash(hash.Value));
                var done = Interlocked.Increment(ref plainDone);
                if (done % 10 == 0 || done == plainTotal)
                {
                    progress?.Report(new ImportProgress(ImportPhase.Hashing, done, plainTotal));
                }
            });
        hashedFromPlain = plainTotal;
        return [.. result];
    }

    /// <summary>
    /// Forwards the store's counts on the calling thread. <see cref="Progress{T}"/> would post each one
    /// to the thread pool, so the last reports could arrive after the import returned, or never.
    /// </summary>
    private sealed class WritingProgress(IProgress<ImportProgress> progress, int total) : IProgress<int>
    {
        public void Report(int value) => progress.Report(new ImportProgress(ImportPhase.Writing, value, total));
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "admin: import wrote {Count} mailbox(es), {Plain} hashed from PLAIN, {Skipped} line(s) skipped")]
    private partial void LogImported(int count, int plain, int skipped);
}
