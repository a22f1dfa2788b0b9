using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// Which setting wins, observed from outside: each layer names another data directory, and
/// <c>domain add</c>/<c>domain list</c> show which database the program opened.
/// Sources, weakest first: config/appsettings.json, <c>--config FILE</c>, environment variables.
/// </summary>
[TestFixture]
public sealed class ConfigurationTests
{
    private MailAuthProcess _cli = null!;

    [SetUp]
    public void StartWithoutADataDirectoryVariable()
    {
        _cli = new MailAuthProcess();
        _cli.Environment.Remove("MailAuth__DataDirectory");
    }

    [TearDown]
    public void Stop() => _cli.Dispose();

    [Test]
    public async Task WithoutAFileInTheWorkingDirectoryTheCopyBesideTheProgramApplies()
    {
        Expect(await _cli.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Assert.That(DatabaseExists("data"), Is.True, "its DataDirectory 'data', taken from the working directory");
    }

    [Test]
    public async Task EachLayerOverridesTheOneBelowKeyByKey()
    {
        WriteFile("config/appsettings.json", """
            {
              // Comments are allowed, as in the shipped file.
              "MailAuth": { "DataDirectory": "from-file", "Imap": { "Port": 1143 } }
            }
            """);
        WriteFile("override.json", """{ "MailAuth": { "DataDirectory": "from-config" } }""");
        WriteFile("ports-only.json", """{ "MailAuth": { "Imap": { "Port": 2143 } } }""");

        Expect(await _cli.RunAsync("domain", "add", "file.example"), 0, "domain file.example added");
        Expect(await _cli.RunAsync("domain", "add", "config.example", "--config", "override.json"), 0, "domain config.example added");
        Expect(await _cli.RunAsync("--config", "override.json", "domain", "add", "before-verb.example"), 0, "domain before-verb.example added");
        // A --config file without DataDirectory leaves the working directory file's value in force.
        Expect(await _cli.RunAsync("domain", "add", "layered.example", "--config", "ports-only.json"), 0, "domain layered.example added");
        _cli.Environment["MailAuth__DataDirectory"] = "from-env";
        Expect(await _cli.RunAsync("domain", "add", "env.example", "--config", "override.json"), 0, "domain env.example added");
        _cli.Environment.Remove("MailAuth__DataDirectory");

        Assert.That(DatabaseExists("data"), Is.False, "the copy beside the program is not read when the working directory has one");
        Assert.That((await _cli.RunAsync("domain", "list")).Stdout, Is.EqualTo("file.example\t0 mailbox(es)\nlayered.example\t0 mailbox(es)\n"));
        Assert.That((await _cli.RunAsync("domain", "list", "--config", "override.json")).Stdout,
            Is.EqualTo("before-verb.example\t0 mailbox(es)\nconfig.example\t0 mailbox(es)\n"));
        _cli.Environment["MailAuth__DataDirectory"] = "from-env";
        Assert.That((await _cli.RunAsync("domain", "list")).Stdout, Is.EqualTo("env.example\t0 mailbox(es)\n"));
    }

    [Test]
    public async Task AMissingConfigFileExitsWithTwo()
    {
        var missing = Path.Combine(_cli.WorkingDirectory, "missing.json");
        Refused(await _cli.RunAsync("domain", "list", "--config", "missing.json"), 2, $"error: configuration file {missing} does not exist");
        Refused(await _cli.RunAsync("serve", "--config", missing), 2, $"error: configuration file {missing} does not exist");
        Assert.That(DatabaseExists("data"), Is.False);
    }

    [TestCase("override.json", new[] { "domain", "list", "--config", "override.json" })]
    [TestCase("config/appsettings.json", new[] { "domain", "list" })]
    [TestCase("config/appsettings.json", new[] { "serve" })]
    public async Task MalformedJsonExitsWithTwoAndSaysWhere(string file, string[] args)
    {
        WriteFile(file, "{\n  \"MailAuth\": {\n    \"DataDirectory\": \"elsewhere\"\n");
        var result = await _cli.RunAsync(args);
        Refused(result, 2, null);
        Assert.That(OneErrorLine(result), Does.StartWith(
            $"cannot read configuration: Failed to load configuration from file '{Path.Combine(_cli.WorkingDirectory, file)}': ")
            .And.Contain("LineNumber: 3"), result.ToString());
        Assert.That(DatabaseExists("data") || DatabaseExists("elsewhere"), Is.False);
    }

    [Test]
    public async Task AnInvalidValueInAFileNamesItsKey()
    {
        WriteFile("override.json", """{ "MailAuth": { "Hashing": { "Workers": "many" }, "Smtp": { "SubmissionPort": -1 } } }""");
        Refused(await _cli.RunAsync("domain", "list", "--config", "override.json"), 2,
            "error: invalid configuration: Failed to convert configuration value 'many' at 'MailAuth:Hashing:Workers' to type 'System.Int32'.");
        WriteFile("override.json", """{ "MailAuth": { "Hashing": { "Workers": -1 }, "Smtp": { "SubmissionPort": -1 } } }""");
        var everyProblem = await _cli.RunAsync("domain", "list", "--config", "override.json");
        Refused(everyProblem, 2, null);
        Assert.That(OneErrorLine(everyProblem), Does.StartWith("invalid configuration: MailAuth:Hashing:Workers is -1; it must be 0 (one per core) or more")
            .And.Contain("MailAuth:Smtp:SubmissionPort must be between 0 (disabled) and 65535, not -1"), "every bad key, in one line");
    }

    private bool DatabaseExists(string dataDirectory) =>
        File.Exists(Path.Combine(_cli.WorkingDirectory, dataDirectory, "mailauth.db"));

    private void WriteFile(string relativePath, string content)
    {
        var path = Path.Combine(_cli.WorkingDirectory, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }
}
