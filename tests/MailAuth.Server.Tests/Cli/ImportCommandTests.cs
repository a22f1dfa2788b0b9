using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Cli;

/// <summary>
/// <c>mailbox import</c> end to end: hashes made by other tools are imported with the real program,
/// then logged in with <c>auth test</c>, which takes the same path as an IMAP or SMTP login.
/// </summary>
[TestFixture]
public sealed partial class ImportCommandTests
{
    // From tests/MailAuth.Core.Tests/Passwords/TestVectors.cs, where each one's origin is given:
    // Debian's reference argon2 CLI, PHP's password_hash() and Openwall's crypt_blowfish.
    private const string Argon2Password = "correct horse battery staple";
    private const string Argon2Id = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLUxlMkZycXE1uWRM";
    private const string Argon2I = "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YwjQ4src0wfskLx1Fo/zbPnLWopM6XnS42fesFj2sKQ";
    private const string BcryptPhpPassword = "rasmuslerdorf";
    private const string BcryptPhp = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a";
    private const string BcryptOpenwallPassword = "U*U";
    private const string BcryptOpenwall = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

    private const string RefusalSuffix = " (use --skip-invalid to import the rest)";

    private MailAuthProcess _cli = null!;

    [SetUp]
    public async Task StartWithADomain()
    {
        _cli = new MailAuthProcess();
        Expect(await _cli.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
    }

    [TearDown]
    public void Stop() => _cli.Dispose();

    [NUnit.Framework.Category("External")]
    [Test]
    public async Task EverySchemeLogsInAndIsRehashedToArgon2idAfterTheFirstSuccess()
    {
        var sha512 = OpenSslPasswd("-6", "Sha512-Secret");
        var sha256 = OpenSslPasswd("-5", "Sha256-Secret");
        var bare = OpenSslPasswd("-6", "Bare-Secret");
        // address, passwd-file field, password, scheme as imported, rehashed at the first login
        var accounts = new (string Address, string Field, string Password, string Scheme, bool Rehashed)[]
        {
            ("argon2id@family.example", "{ARGON2ID}" + Argon2Id, Argon2Password, "ARGON2ID", true),
            ("argon2i@family.example", "{ARGON2I}" + Argon2I, Argon2Password, "ARGON2I", true),
            ("bcrypt@family.example", "{BLF-CRYPT}" + BcryptPhp, BcryptPhpPassword, "BLF-CRYPT", true),
            ("bcrypt-2a@family.example", "{BLF-CRYPT}" + BcryptOpenwall, BcryptOpenwallPassword, "BLF-CRYPT", true),
            ("sha512@family.example", "{SHA512-CRYPT}" + sha512, "Sha512-Secret", "SHA512-CRYPT", true),
            ("sha256@family.example", "{SHA256-CRYPT}" + sha256, "Sha256-Secret", "SHA256-CRYPT", true),
            ("plain@family.example", "{PLAIN}Plain-Secret", "Plain-Secret", "ARGON2ID", false),
            ("cleartext@family.example", "{CLEARTEXT}Clear-Secret", "Clear-Secret", "ARGON2ID", false),
            ("bare@family.example", bare, "Bare-Secret", "SHA512-CRYPT", true),
        };
        // A Dovecot export: a comment, blank lines, CRLF endings, and the userdb fields after the hash.
        var file = new StringBuilder("# passwd-file exported from Dovecot\r\n\r\n");
        for (var i = 0; i < accounts.Length; i++)
        {
            var (address, field, _, _, _) = accounts[i];
            var local = address.Split('@')[0];
            file.Append(address).Append(':').Append(field);
            file.Append((i % 3) switch
            {
                0 => $":1000:1000::/var/vmail/family.example/{local}::userdb_quota_rule=*:storage=1G",
                1 => "::::::",
                _ => "",
            });
            file.Append(i == 4 ? "\r\n# in the middle\r\n\r\n" : "\r\n");
        }
        var path = WriteFile("dovecot.passwd", file.ToString());

        var imported = await _cli.RunAsync("mailbox", "import", path);
        Expect(imported, 0, "imported 9 mailbox(es); 2 {PLAIN} password(s) hashed now; 0 line(s) skipped");
        Assert.That(imported.Stderr, Does.Not.Contain("error").And.Not.Contain("skipped"), imported.ToString());

        var asImported = await ListAsync();
        Assert.That(asImported.Keys, Is.EquivalentTo(accounts.Select(a => a.Address)));
        foreach (var account in accounts)
        {
            Assert.That(asImported[account.Address].Scheme, Is.EqualTo(account.Scheme), account.Address);
        }

        foreach (var account in accounts)
        {
            Refused(await _cli.RunWithInputAsync("wrong-" + account.Password + "\n", "auth", "test", account.Address), 1, null, "failed: wrong password");
        }
        Assert.That(await ListAsync(), Is.EqualTo(asImported), "a failed login never rehashes");

        foreach (var account in accounts)
        {
            Expect(await _cli.RunWithInputAsync(account.Password + "\n", "auth", "test", account.Address), 0, $"ok: {account.Address} accepts this password");
        }
        var afterLogin = await ListAsync();
        using (Assert.EnterMultipleScope())
        {
            foreach (var account in accounts)
            {
                Assert.That(afterLogin[account.Address].Scheme, Is.EqualTo("ARGON2ID"), account.Address);
                // {ARGON2ID} at other parameters is rehashed too; a {PLAIN} hashed by the import already has the configured ones.
                Assert.That(afterLogin[account.Address].UpdatedAt, account.Rehashed
                    ? Is.Not.EqualTo(asImported[account.Address].UpdatedAt)
                    : Is.EqualTo(asImported[account.Address].UpdatedAt), account.Address);
            }
        }

        // The upgraded hashes hold the same passwords.
        foreach (var account in accounts)
        {
            Expect(await _cli.RunWithInputAsync(account.Password + "\n", "auth", "test", account.Address), 0, $"ok: {account.Address} accepts this password");
        }
        Refused(await _cli.RunWithInputAsync("wrong\n", "auth", "test", "bare@family.example"), 1, null, "failed: wrong password");
    }

    [NUnit.Framework.Category("External")]
    [Test]
    public async Task EveryInvalidLineIsRefusedWithItsNumberAndNothingIsWritten()
    {
        Expect(await _cli.RunWithInputAsync("Existing-Secret\n", "mailbox", "add", "existing@family.example"), 0, "mailbox existing@family.example added");
        var sha512 = OpenSslPasswd("-6", "Sha512-Secret");
        var mailboxesBefore = (await _cli.RunAsync("mailbox", "list", "--json")).Stdout;
        var domainsBefore = (await _cli.RunAsync("domain", "list", "--json")).Stdout;

        // Each file starts with a valid line that would be written if anything were.
        var cases = new (string Name, string BadLine, string Reason)[]
        {
            ("malformed address", "julie@@family.example:{PLAIN}x", "'julie@@family.example' is not a valid address: the address has more than one '@'"),
            ("unknown scheme", "julie@family.example:{MD5-CRYPT}$1$salt$hash",
                "unknown scheme {MD5-CRYPT}; supported: ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, PLAIN"),
            ("malformed hash", "julie@family.example:{SHA512-CRYPT}$6$salt$tooshort",
                "a SHA512-CRYPT hash must look like $6$[rounds=N$]salt$ followed by 86 characters of ./0-9A-Za-z, with a salt of at most 16 such characters"),
            ("malformed argon2", "julie@family.example:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ",
                "an argon2 hash must look like $argon2id$v=19$m=N,t=N,p=N$salt$hash"),
            ("missing scheme prefix", "julie@family.example:Secret", "missing {SCHEME} prefix"),
            ("no hash", "julie@family.example", "expected 'address:{SCHEME}hash'"),
            ("duplicate", "Valid@FAMILY.example:{PLAIN}x", "valid@family.example already appears on line 1"),
            ("unknown domain", "julie@elsewhere.example:{PLAIN}Julie-Secret", "domain elsewhere.example does not exist (add it, or pass --create-domains)"),
            ("existing mailbox", "Existing@family.example:{PLAIN}Replaced-Secret",
                "mailbox existing@family.example already exists (pass --replace-existing to overwrite its password)"),
            ("empty PLAIN", "julie@family.example:{PLAIN}", "nothing follows {PLAIN}"),
            ("over-long line", "julie@family.example:{PLAIN}" + new string('x', 5000), "the line is longer than 4096 characters"),
        };
        var files = new Dictionary<string, string>();
        foreach (var (name, badLine, reason) in cases)
        {
            var path = WriteFile(name.Replace(' ', '-') + ".passwd", $"valid@family.example:{{SHA512-CRYPT}}{sha512}\n# comment\n{badLine}\n");
            files[name] = path;
            Refused(await _cli.RunAsync("mailbox", "import", path), 1, $"error: import refused, nothing written: 1 invalid line(s); first: line 3: {reason}{RefusalSuffix}");
        }

        var missing = Path.Combine(_cli.WorkingDirectory, "missing.passwd");
        Refused(await _cli.RunAsync("mailbox", "import", missing), 1, $"error: cannot read {missing}: no such file");
        // A relative path is taken from the program's working directory.
        _cli.OutOfProcess = true;
        Refused(await _cli.RunAsync("mailbox", "import", "missing.passwd"), 1, $"error: cannot read {missing}: no such file");
        _cli.OutOfProcess = false;
        Refused(await _cli.RunWithInputAsync($"valid@family.example:{{SHA512-CRYPT}}{sha512}\nbad@@family.example:{{PLAIN}}x\n", "mailbox", "import", "-"), 1,
            $"error: import refused, nothing written: 1 invalid line(s); first: line 2: 'bad@@family.example' is not a valid address: the address has more than one '@'{RefusalSuffix}");

        Assert.That((await _cli.RunAsync("mailbox", "list", "--json")).Stdout, Is.EqualTo(mailboxesBefore), "no mailbox added or changed");
        Assert.That((await _cli.RunAsync("domain", "list", "--json")).Stdout, Is.EqualTo(domainsBefore), "no domain added");

        // The two refusals that an option lifts.
        Expect(await _cli.RunAsync("mailbox", "import", files["unknown domain"], "--create-domains"), 0,
            "imported 2 mailbox(es); 1 {PLAIN} password(s) hashed now; 0 line(s) skipped");
        Assert.That((await _cli.RunAsync("domain", "list")).Stdout, Is.EqualTo("elsewhere.example\t1 mailbox(es)\nfamily.example\t2 mailbox(es)\n"));
        Expect(await _cli.RunWithInputAsync("Julie-Secret\n", "auth", "test", "julie@elsewhere.example"), 0, "ok: julie@elsewhere.example accepts this password");

        File.WriteAllText(files["existing mailbox"], $"Existing@family.example:{{PLAIN}}Replaced-Secret\nvalid@family.example:{{SHA512-CRYPT}}{sha512}\n");
        Expect(await _cli.RunAsync("mailbox", "import", files["existing mailbox"], "--replace-existing"), 0,
            "imported 2 mailbox(es); 1 {PLAIN} password(s) hashed now; 0 line(s) skipped");
        Refused(await _cli.RunWithInputAsync("Existing-Secret\n", "auth", "test", "existing@family.example"), 1, null, "failed: wrong password");
        Expect(await _cli.RunWithInputAsync("Replaced-Secret\n", "auth", "test", "existing@family.example"), 0, "ok: existing@family.example accepts this password");
        Expect(await _cli.RunWithInputAsync("Sha512-Secret\n", "auth", "test", "valid@family.example"), 0, "ok: valid@family.example accepts this password");
    }

    [NUnit.Framework.Category("External")]
    [Test]
    public async Task SkipInvalidImportsTheRestAndListsTheSkippedLines()
    {
        Expect(await _cli.RunWithInputAsync("Existing-Secret\n", "mailbox", "add", "existing@family.example"), 0, "mailbox existing@family.example added");
        var existingBefore = (await ListAsync())["existing@family.example"];
        var path = WriteFile("mixed.passwd",
            $"good1@family.example:{{SHA512-CRYPT}}{OpenSslPasswd("-6", "Good1-Secret")}\n" +
            "bad@@family.example:{PLAIN}x\n" +
            "good2@family.example:{PLAIN}Good2-Secret\n" +
            "good3@family.example:{NOPE}x\n" +
            "good1@family.example:{PLAIN}again\n" +
            "existing@family.example:{PLAIN}Replaced-Secret\n" +
            "nobody@elsewhere.example:{PLAIN}x\n" +
            "good4@family.example:{PLAIN}" + new string('x', 5000) + "\n");

        var result = await _cli.RunAsync("mailbox", "import", path, "--skip-invalid");

        Expect(result, 0, "imported 2 mailbox(es); 1 {PLAIN} password(s) hashed now; 6 line(s) skipped");
        Assert.That(WithoutProgress(result.Stderr), Is.EqualTo(new[]
        {
            "skipped line 2: 'bad@@family.example' is not a valid address: the address has more than one '@'",
            "skipped line 4: unknown scheme {NOPE}; supported: ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, PLAIN",
            "skipped line 5: good1@family.example already appears on line 1",
            "skipped line 6: mailbox existing@family.example already exists (pass --replace-existing to overwrite its password)",
            "skipped line 7: domain elsewhere.example does not exist (add it, or pass --create-domains)",
            "skipped line 8: the line is longer than 4096 characters",
        }), result.ToString());
        var after = await ListAsync();
        Assert.That(after.Keys, Is.EqualTo(new[] { "existing@family.example", "good1@family.example", "good2@family.example" }));
        Assert.That(after["existing@family.example"], Is.EqualTo(existingBefore), "a skipped line changes nothing");
        Expect(await _cli.RunWithInputAsync("Good1-Secret\n", "auth", "test", "good1@family.example"), 0, "ok: good1@family.example accepts this password");
        Expect(await _cli.RunWithInputAsync("Good2-Secret\n", "auth", "test", "good2@family.example"), 0, "ok: good2@family.example accepts this password");
        Expect(await _cli.RunWithInputAsync("Existing-Secret\n", "auth", "test", "existing@family.example"), 0, "ok: existing@family.example accepts this password");
    }

    [NUnit.Framework.Category("External")]
    [Test]
    public async Task DashReadsStandardInput()
    {
        var result = await _cli.RunWithInputAsync(
            $"# from a pipe\r\njulie@family.example:{{SHA256-CRYPT}}{OpenSslPasswd("-5", "Julie-Secret")}:1000:1000\r\nanna@family.example:{{PLAIN}}Anna-Secret\r\n",
            "mailbox", "import", "-");
        Expect(result, 0, "imported 2 mailbox(es); 1 {PLAIN} password(s) hashed now; 0 line(s) skipped");
        Assert.That((await ListAsync()).Keys, Is.EqualTo(new[] { "anna@family.example", "julie@family.example" }));
        Expect(await _cli.RunWithInputAsync("Julie-Secret\n", "auth", "test", "julie@family.example"), 0, "ok: julie@family.example accepts this password");
        Expect(await _cli.RunWithInputAsync("Anna-Secret\n", "auth", "test", "anna@family.example"), 0, "ok: anna@family.example accepts this password");
    }

    [NUnit.Framework.Category("External")]
    [Test]
    public async Task HundredThousandLinesAreImportedWithProgress()
    {
        const int Count = 100_000;
        var hash = OpenSslPasswd("-6", "Shared-Secret");
        var path = Path.Combine(_cli.WorkingDirectory, "large.passwd");
        await using (var writer = new StreamWriter(path))
        {
            for (var i = 0; i < Count; i++)
            {
                await writer.WriteAsync(FormattableString.Invariant($"user{i:D6}@big.example:{{SHA512-CRYPT}}{hash}:5000:5000::/var/vmail/big.example/user{i:D6}::\n"));
            }
        }

        var stopwatch = Stopwatch.StartNew();
        var result = await _cli.RunAsync("mailbox", "import", path, "--create-domains");
        stopwatch.Stop();
        await TestContext.Out.WriteLineAsync($"imported {Count:N0} lines in {stopwatch.Elapsed.TotalSeconds:F2} s (whole process, including start-up)");

        Expect(result, 0, "imported 100000 mailbox(es); 0 {PLAIN} password(s) hashed now; 0 line(s) skipped");
        var stderr = result.Stderr.TrimEnd('\n').Split('\n');
        Assert.That(stderr, Is.All.Match(ProgressLine()), result.Stderr);
        Assert.That(stderr, Has.Exactly(1).EqualTo("written: 100000/100000"), result.Stderr);
        Assert.That(stderr[^1], Is.EqualTo("written: 100000/100000"), result.Stderr);

        var domains = JsonDocument.Parse((await _cli.RunAsync("domain", "list", "--json")).Stdout).RootElement.EnumerateArray()
            .ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("mailboxes").GetInt32());
        Assert.That(domains, Is.EqualTo(new Dictionary<string, int> { ["big.example"] = Count, ["family.example"] = 0 }));
        Expect(await _cli.RunWithInputAsync("Shared-Secret\n", "auth", "test", "user054321@big.example"), 0, "ok: user054321@big.example accepts this password");
    }

    [GeneratedRegex(@"\A(read: [0-9]+ lines|hashed \{PLAIN\}: [0-9]+/[0-9]+|written: [0-9]+/[0-9]+)\z")]
    private static partial Regex ProgressLine();

    /// <summary>The stderr lines that are not progress reports (those depend on timing).</summary>
    private static string[] WithoutProgress(string stderr) =>
        [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !ProgressLine().IsMatch(line))];

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_cli.WorkingDirectory, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary><c>mailbox list --json</c> by address: the hash scheme and when the row last changed.</summary>
    private async Task<Dictionary<string, (string Scheme, string UpdatedAt)>> ListAsync()
    {
        var list = await _cli.RunAsync("mailbox", "list", "--json");
        Assert.That(list.ExitCode, Is.Zero, list.ToString());
        return JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().ToDictionary(
            m => m.GetProperty("address").GetString()!,
            m => (m.GetProperty("hashScheme").GetString()!, m.GetProperty("updatedAt").GetRawText()));
    }

    /// <summary>A SHA-crypt hash made by <c>openssl passwd</c> (-6 or -5), an implementation independent of ours.</summary>
    private static string OpenSslPasswd(string algorithm, string password)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "passwd", algorithm, "-stdin" })
        {
            start.ArgumentList.Add(arg);
        }
        try
        {
            using var process = Process.Start(start)!;
            process.StandardInput.Write(password + "\n");
            process.StandardInput.Close();
            var hash = process.StandardOutput.ReadToEnd().Trim();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, $"openssl passwd {algorithm}: {errors}");
            Assert.That(hash, Does.StartWith(algorithm == "-6" ? "$6$" : "$5$"));
            return hash;
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"cannot run openssl, needed to make hashes with an independent tool: {e.Message}");
            throw;
        }
    }
}
