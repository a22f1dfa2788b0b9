using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Passwords;
using MailAuth.Core.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Mailboxes;

[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed class PasswdFileImporterTests(StoreProvider provider)
{
    private static readonly HashingOptions Fast = new() { MemoryKiB = 1024, Iterations = 1 };
    private static readonly ImportOptions Strict = new(SkipInvalid: false, CreateDomains: false, ReplaceExisting: false);
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");

    /// <summary>A valid first line in every refused file, so that "nothing written" is a real check.</summary>
    private const string ValidFirstLine = "first@family.example:{SHA512-CRYPT}" + TestVectors.Sha512Drepper + "\n";

    private string _directory = "";
    private MailboxStore _store = null!;
    private PasswordHasher _hasher = null!;
    private PasswdFileImporter _importer = null!;

    [SetUp]
    public async Task OpenStore()
    {
        _directory = TestDirectories.Create();
        _store = new MailboxStore(TestStores.Open(provider, _directory), TimeProvider.System);
        _hasher = new PasswordHasher(Fast);
        _importer = new PasswdFileImporter(_store, _hasher, NullLogger<PasswdFileImporter>.Instance);
        await _store.AddDomainAsync("family.example", default);
    }

    [TearDown]
    public void RemoveDirectory() => TestDirectories.Remove(_directory);

    private static IEnumerable<TestCaseData> LegacyHashes()
    {
        yield return Legacy("ARGON2ID", "{ARGON2ID}" + TestVectors.Argon2Id, TestVectors.Argon2Password);
        yield return Legacy("ARGON2ID two lanes", "{ARGON2ID}" + TestVectors.Argon2IdTwoLanes, TestVectors.Argon2Password);
        yield return Legacy("ARGON2I", "{ARGON2I}" + TestVectors.Argon2I, TestVectors.Argon2Password);
        yield return Legacy("BLF-CRYPT $2y$", "{BLF-CRYPT}" + TestVectors.BcryptPhp, TestVectors.BcryptPhpPassword);
        yield return Legacy("BLF-CRYPT $2a$", "{BLF-CRYPT}" + TestVectors.BcryptOpenwall, TestVectors.BcryptOpenwallPassword);
        yield return Legacy("SHA512-CRYPT", "{SHA512-CRYPT}" + TestVectors.Sha512Drepper, TestVectors.DrepperPassword);
        yield return Legacy("SHA512-CRYPT rounds", "{SHA512-CRYPT}" + TestVectors.Sha512DrepperRounds, TestVectors.DrepperPassword);
        yield return Legacy("SHA256-CRYPT", "{SHA256-CRYPT}" + TestVectors.Sha256Drepper, TestVectors.DrepperPassword);
        yield return Legacy("SHA256-CRYPT rounds", "{SHA256-CRYPT}" + TestVectors.Sha256DrepperRounds, TestVectors.DrepperPassword);
        yield return Legacy("scheme in lower case", "{sha256-crypt}" + TestVectors.Sha256Drepper, TestVectors.DrepperPassword,
            "{SHA256-CRYPT}" + TestVectors.Sha256Drepper);
        yield return Legacy("no prefix $6$", TestVectors.Sha512Drepper, TestVectors.DrepperPassword, "{SHA512-CRYPT}" + TestVectors.Sha512Drepper);
        yield return Legacy("no prefix $5$", TestVectors.Sha256Drepper, TestVectors.DrepperPassword, "{SHA256-CRYPT}" + TestVectors.Sha256Drepper);
        yield return Legacy("no prefix $2y$", TestVectors.BcryptPhp, TestVectors.BcryptPhpPassword, "{BLF-CRYPT}" + TestVectors.BcryptPhp);
        yield return Legacy("no prefix $argon2id$", TestVectors.Argon2Id, TestVectors.Argon2Password, "{ARGON2ID}" + TestVectors.Argon2Id);
        yield return Legacy("no prefix $argon2i$", TestVectors.Argon2I, TestVectors.Argon2Password, "{ARGON2I}" + TestVectors.Argon2I);
    }

    [TestCaseSource(nameof(LegacyHashes))]
    public async Task KeepsALegacyHashAsItIs(string field, string password, string stored)
    {
        var report = await ImportAsync($"julie@family.example:{field}\n");
        AssertImported(report, 1, 0);
        var credential = await _store.FindAsync(Julie, default);
        Assert.That(credential!.PasswordHash, Is.EqualTo(stored));
        Assert.That(_hasher.Verify(credential.PasswordHash, password).Matches, Is.True, "the kept hash still accepts its password");
    }

    [Test]
    public async Task HashesPlainAndCleartextPasswordsDuringTheImport()
    {
        var report = await ImportAsync("julie@family.example:{PLAIN}Plain-Secret-1\nanna@family.example:{CLEARTEXT}Clear-Secret-2\n");
        AssertImported(report, 2, 2);
        var julie = (await _store.FindAsync(Julie, default))!.PasswordHash;
        var anna = (await _store.FindAsync(EmailAddress.Parse("anna@family.example"), default))!.PasswordHash;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(julie, Does.StartWith("{ARGON2ID}$argon2id$v=19$m=1024,t=1,p=1$"));
            Assert.That(anna, Does.StartWith("{ARGON2ID}$argon2id$v=19$m=1024,t=1,p=1$"));
            Assert.That(_hasher.Verify(julie, "Plain-Secret-1"), Is.EqualTo(new PasswordCheck(true, false)));
            Assert.That(_hasher.Verify(anna, "Clear-Secret-2"), Is.EqualTo(new PasswordCheck(true, false)));
        }
    }

    [Test]
    public async Task SkipsCommentsAndBlankLinesAndIgnoresExtraFieldsWhateverTheLineEndings()
    {
        var file =
            "# exported from Dovecot\r\n" +
            "\r\n" +
            "julie@family.example:{SHA512-CRYPT}" + TestVectors.Sha512Drepper + ":1000:1000::/var/vmail/julie::userdb_quota_rule=*:storage=1G\r\n" +
            "   \n" +
            "#anna@family.example:{PLAIN}commented-out\n" +
            "bob@family.example:{SHA256-CRYPT}" + TestVectors.Sha256Drepper + ":::::\n" +
            "\n" +
            "carol@family.example:{PLAIN}Carol-Secret:1000:1000";
        var report = await ImportAsync(file);
        AssertImported(report, 3, 1);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(await AddressesAsync(), Is.EqualTo(new[] { "bob@family.example", "carol@family.example", "julie@family.example" }));
            Assert.That((await _store.FindAsync(Julie, default))!.PasswordHash, Is.EqualTo("{SHA512-CRYPT}" + TestVectors.Sha512Drepper));
            Assert.That(_hasher.Verify((await _store.FindAsync(EmailAddress.Parse("carol@family.example"), default))!.PasswordHash, "Carol-Secret").Matches, Is.True);
        }
    }

    private static IEnumerable<TestCaseData> InvalidLines()
    {
        yield return Invalid("malformed address", "julie@@family.example:{PLAIN}x",
            "'julie@@family.example' is not a valid address: the address has more than one '@'");
        yield return Invalid("empty address", ":{PLAIN}x", "'' is not a valid address: the address is empty");
        yield return Invalid("no password field", "julie@family.example", "expected 'address:{SCHEME}hash'");
        yield return Invalid("empty password field", "julie@family.example::1000", "the password hash is empty");
        yield return Invalid("unknown scheme", "julie@family.example:{MD5-CRYPT}$1$salt$hash",
            "unknown scheme {MD5-CRYPT}; supported: ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, PLAIN");
        yield return Invalid("unclosed scheme", "julie@family.example:{PLAIN", "missing '}' after the scheme name");
        yield return Invalid("missing scheme prefix", "julie@family.example:secret", "missing {SCHEME} prefix");
        yield return Invalid("malformed SHA512-CRYPT", "julie@family.example:{SHA512-CRYPT}$6$salt$tooshort",
            "a SHA512-CRYPT hash must look like $6$[rounds=N$]salt$ followed by 86 characters of ./0-9A-Za-z, with a salt of at most 16 such characters");
        yield return Invalid("SHA256 hash under SHA512-CRYPT", "julie@family.example:{SHA512-CRYPT}" + TestVectors.Sha256Drepper,
            "a SHA512-CRYPT hash must look like $6$[rounds=N$]salt$ followed by 86 characters of ./0-9A-Za-z, with a salt of at most 16 such characters");
        yield return Invalid("malformed ARGON2ID", "julie@family.example:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ",
            "an argon2 hash must look like $argon2id$v=19$m=N,t=N,p=N$salt$hash");
        yield return Invalid("ARGON2I hash under ARGON2ID", "julie@family.example:{ARGON2ID}" + TestVectors.Argon2I,
            "an {ARGON2ID} hash must start with $argon2id$");
        yield return Invalid("bcrypt cost too low", "julie@family.example:{BLF-CRYPT}$2y$03$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a",
            "bcrypt cost 03 is outside 04..31");
        yield return Invalid("empty PLAIN", "julie@family.example:{PLAIN}", "nothing follows {PLAIN}");
        yield return Invalid("PLAIN with a tab", "julie@family.example:{PLAIN}a\tb",
            "the password contains control characters (such as a tab or NUL)");
        yield return Invalid("PLAIN over 1024 bytes", "julie@family.example:{PLAIN}" + new string('é', 513),
            "the password is longer than 1024 bytes");
        yield return Invalid("over-long line", "julie@family.example:{PLAIN}" + new string('x', PasswdFileImporter.MaxLineLength),
            $"the line is longer than {PasswdFileImporter.MaxLineLength} characters");
        yield return Invalid("unknown domain", "julie@elsewhere.example:{PLAIN}x",
            "domain elsewhere.example does not exist (add it, or pass --create-domains)");
        yield return Invalid("unknown IDN domain", "julie@Bücher.example:{PLAIN}x",
            "domain xn--bcher-kva.example does not exist (add it, or pass --create-domains)");
        yield return Invalid("existing mailbox", "EXISTING@Family.Example:{PLAIN}x",
            "mailbox existing@family.example already exists (pass --replace-existing to overwrite its password)");
        yield return Invalid("duplicate in another spelling", "First@FAMILY.example:{PLAIN}x",
            "first@family.example already appears on line 1");
    }

    [TestCaseSource(nameof(InvalidLines))]
    public async Task RefusesTheWholeFileForOneInvalidLine(string line, string reason)
    {
        await _store.AddMailboxAsync(EmailAddress.Parse("existing@family.example"), "{PLAIN}unchanged", default);
        var before = await _store.ListMailboxesAsync(null, default);

        var refused = Assert.ThrowsAsync<ImportRefusedException>(() => ImportAsync(ValidFirstLine + "# comment\n" + line + "\n"));

        Assert.That(refused!.Errors, Is.EqualTo(new[] { new ImportLineError(3, reason) }));
        Assert.That(refused.Message, Is.EqualTo(
            $"import refused, nothing written: 1 invalid line(s); first: line 3: {reason} (use --skip-invalid to import the rest)"));
        Assert.That(await _store.ListMailboxesAsync(null, default), Is.EqualTo(before), "nothing written");
        Assert.That((await _store.FindAsync(EmailAddress.Parse("existing@family.example"), default))!.PasswordHash, Is.EqualTo("{PLAIN}unchanged"));
        Assert.That((await _store.ListDomainsAsync(default)).Select(d => d.Name), Is.EqualTo(new[] { "family.example" }));
    }

    [Test]
    public async Task ReportsEveryInvalidLineInFileOrder()
    {
        var refused = Assert.ThrowsAsync<ImportRefusedException>(() => ImportAsync(
            ValidFirstLine +
            "first@family.example:{PLAIN}again\n" +
            "julie@elsewhere.example:{PLAIN}x\n" +
            "julie@family.example:{NOPE}x\n" +
            "anna@family.example:{PLAIN}Anna-Secret\n"));
        Assert.That(refused!.Errors, Is.EqualTo(new[]
        {
            new ImportLineError(2, "first@family.example already appears on line 1"),
            new ImportLineError(3, "domain elsewhere.example does not exist (add it, or pass --create-domains)"),
            new ImportLineError(4, "unknown scheme {NOPE}; supported: ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, PLAIN"),
        }));
        Assert.That(refused.Message, Does.StartWith("import refused, nothing written: 3 invalid line(s); first: line 2: "));
        Assert.That(await AddressesAsync(), Is.Empty);
    }

    [Test]
    public async Task SkipInvalidImportsTheValidLinesAndReportsTheOthers()
    {
        await _store.AddMailboxAsync(EmailAddress.Parse("existing@family.example"), "{PLAIN}unchanged", default);
        var report = await ImportAsync(
            ValidFirstLine +
            "bad@@family.example:{PLAIN}x\n" +
            "anna@family.example:{PLAIN}Anna-Secret\n" +
            "first@family.example:{PLAIN}again\n" +
            "existing@family.example:{PLAIN}replaced\n" +
            "julie@elsewhere.example:{PLAIN}x\n",
            Strict with { SkipInvalid = true });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Imported, Is.EqualTo(2));
            Assert.That(report.HashedFromPlain, Is.EqualTo(1));
            Assert.That(report.Skipped.Select(e => e.LineNumber), Is.EqualTo(new[] { 2, 4, 5, 6 }));
            Assert.That(report.Skipped[0].ToString(), Is.EqualTo("line 2: 'bad@@family.example' is not a valid address: the address has more than one '@'"));
            Assert.That(await AddressesAsync(), Is.EqualTo(new[] { "anna@family.example", "existing@family.example", "first@family.example" }));
            Assert.That((await _store.FindAsync(EmailAddress.Parse("existing@family.example"), default))!.PasswordHash, Is.EqualTo("{PLAIN}unchanged"));
        }
    }

    [Test]
    public async Task AnOverLongLineDoesNotSwallowTheNextOne()
    {
        var report = await ImportAsync(
            ValidFirstLine + "huge@family.example:{PLAIN}" + new string('x', 1_000_000) + "\r\nanna@family.example:{PLAIN}Anna-Secret\r\n",
            Strict with { SkipInvalid = true });
        Assert.That(report.Skipped, Is.EqualTo(new[] { new ImportLineError(2, "the line is longer than 4096 characters") }));
        Assert.That(await AddressesAsync(), Is.EqualTo(new[] { "anna@family.example", "first@family.example" }));
    }

    [Test]
    public async Task CreateDomainsAddsEveryMissingDomainOnce()
    {
        var report = await ImportAsync(
            "julie@elsewhere.example:{PLAIN}Julie-Secret\nanna@Bücher.example:{PLAIN}Anna-Secret\nbob@elsewhere.example:{PLAIN}Bob-Secret\n",
            Strict with { CreateDomains = true });
        Assert.That(report.Imported, Is.EqualTo(3));
        var domains = await _store.ListDomainsAsync(default);
        Assert.That(domains.Select(d => (d.Name, d.MailboxCount)), Is.EqualTo(new[]
        {
            ("elsewhere.example", 2),
            ("family.example", 0),
            ("xn--bcher-kva.example", 1),
        }));
    }

    [Test]
    public async Task AnIdnDomainAddedInAsciiFormMatchesItsUnicodeSpelling()
    {
        await _store.AddDomainAsync("xn--bcher-kva.example", default);
        var report = await ImportAsync("anna@bücher.example:{PLAIN}Anna-Secret\n");
        Assert.That(report.Imported, Is.EqualTo(1));
        Assert.That(await AddressesAsync(), Is.EqualTo(new[] { "anna@xn--bcher-kva.example" }));
    }

    [Test]
    public async Task ReplaceExistingOverwritesThePasswordAndStalesEarlierLogins()
    {
        await _store.AddMailboxAsync(Julie, _hasher.Hash("Old-Secret"), default);
        var before = (await _store.FindAsync(Julie, default))!;

        var report = await ImportAsync(
            "Julie@family.example:{SHA512-CRYPT}" + TestVectors.Sha512Drepper + "\nanna@family.example:{PLAIN}Anna-Secret\n",
            Strict with { ReplaceExisting = true });

        var after = (await _store.FindAsync(Julie, default))!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Imported, Is.EqualTo(2));
            Assert.That(after.PasswordHash, Is.EqualTo("{SHA512-CRYPT}" + TestVectors.Sha512Drepper));
            Assert.That(after.CredentialVersion, Is.GreaterThan(before.CredentialVersion));
            Assert.That(_hasher.Verify(after.PasswordHash, "Old-Secret").Matches, Is.False);
            Assert.That(await AddressesAsync(), Is.EqualTo(new[] { "anna@family.example", "julie@family.example" }));
        }
    }

    [Test]
    public async Task ReportsProgressWhileReadingAndWriting()
    {
        const int Lines = 25_000;
        var file = new StringBuilder();
        for (var i = 0; i < Lines; i++)
        {
            file.Append(FormattableString.Invariant($"user{i}@family.example:{{SHA512-CRYPT}}{TestVectors.Sha512Drepper}\n"));
        }
        var progress = new RecordingProgress();

        var report = await _importer.ImportAsync(new StringReader(file.ToString()), Strict, progress, default);

        Assert.That(report.Imported, Is.EqualTo(Lines));
        var reports = progress.Reports;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reports.Where(r => r.Phase == ImportPhase.Reading), Is.EqualTo(new[]
            {
                new ImportProgress(ImportPhase.Reading, 10_000, 0),
                new ImportProgress(ImportPhase.Reading, 20_000, 0),
            }));
            var written = reports.Where(r => r.Phase == ImportPhase.Writing).ToList();
            Assert.That(written, Is.Not.Empty);
            Assert.That(written.Select(r => r.Done), Is.Ordered);
            Assert.That(written.Select(r => r.Total), Is.All.EqualTo(Lines));
            Assert.That(reports[^1], Is.EqualTo(new ImportProgress(ImportPhase.Writing, Lines, Lines)));
            Assert.That(reports.Any(r => r.Phase == ImportPhase.Hashing), Is.False, "no {PLAIN} line, nothing to hash");
        }
    }

    [Test]
    public void EveryReportIsMadeBeforeTheImportReturns()
    {
        // Work posted to this context runs only while the test pumps it, and the pumping stops the
        // moment the import completes: a report posted for later (as Progress<T> does) is then missing.
        var file = string.Concat(Enumerable.Range(0, 2_500).Select(i => $"user{i}@family.example:{{SHA512-CRYPT}}{TestVectors.Sha512Drepper}\n"));
        var progress = new RecordingProgress();
        var context = new PumpedContext();
        var import = context.Start(() => _importer.ImportAsync(new StringReader(file), Strict, progress, default));
        context.PumpUntil(import);

        Assert.That(import.GetAwaiter().GetResult().Imported, Is.EqualTo(2_500));
        Assert.That(progress.Reports.Where(r => r.Phase == ImportPhase.Writing).Select(r => r.Done), Is.EqualTo(new[] { 1000, 2000, 2500 }));
    }

    [Test]
    public async Task ReportsProgressWhileHashingPlainPasswords()
    {
        var file = string.Concat(Enumerable.Range(0, 12).Select(i => $"user{i}@family.example:{{PLAIN}}Secret-{i}\n"));
        var progress = new RecordingProgress();
        var report = await _importer.ImportAsync(new StringReader(file), Strict, progress, default);
        Assert.That(report.HashedFromPlain, Is.EqualTo(12));
        Assert.That(
            progress.Reports.Where(r => r.Phase == ImportPhase.Hashing).Select(r => r.Done).Order(),
            Is.EqualTo(new[] { 10, 12 }));
    }

    private static TestCaseData Legacy(string name, string field, string password, string? stored = null) =>
        new TestCaseData(field, password, stored ?? field).SetArgDisplayNames(name);

    private static TestCaseData Invalid(string name, string line, string reason) =>
        new TestCaseData(line, reason).SetArgDisplayNames(name);

    private static void AssertImported(ImportReport report, int imported, int hashedFromPlain)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Imported, Is.EqualTo(imported));
            Assert.That(report.HashedFromPlain, Is.EqualTo(hashedFromPlain));
            Assert.That(report.Skipped, Is.Empty);
        }
    }

    private Task<ImportReport> ImportAsync(string file, ImportOptions? options = null) =>
        _importer.ImportAsync(new StringReader(file), options ?? Strict, null, default);

    private async Task<List<string>> AddressesAsync() =>
        [.. (await _store.ListMailboxesAsync(null, default)).Select(m => m.Address.ToString())];

    /// <summary>A single-threaded context that runs posted work only inside <see cref="PumpUntil"/>.</summary>
    private sealed class PumpedContext : SynchronizationContext
    {
        private readonly System.Collections.Concurrent.BlockingCollection<(SendOrPostCallback Callback, object? State)> _posted = [];

        public override void Post(SendOrPostCallback d, object? state) => _posted.Add((d, state));

        public Task<T> Start<T>(Func<Task<T>> work)
        {
            var previous = Current;
            SetSynchronizationContext(this);
            try
            {
                return work();
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        }

        public void PumpUntil(Task task)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!task.IsCompleted && DateTime.UtcNow < deadline)
            {
                if (_posted.TryTake(out var posted, TimeSpan.FromMilliseconds(10)))
                {
                    Start(() =>
                    {
                        posted.Callback(posted.State);
                        return Task.FromResult(0);
                    });
                }
            }
        }
    }

    /// <summary>Records every report synchronously, as it is made.</summary>
    private sealed class RecordingProgress : IProgress<ImportProgress>
    {
        private readonly List<ImportProgress> _reports = [];

        public IReadOnlyList<ImportProgress> Reports
        {
            get
            {
                lock (_reports)
                {
                    return [.. _reports];
                }
            }
        }

        public void Report(ImportProgress value)
        {
            lock (_reports)
            {
                _reports.Add(value);
            }
        }
    }
}
