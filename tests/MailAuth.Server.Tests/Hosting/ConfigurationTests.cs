using MailAuth.Server.Hosting;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// Which setting wins, observed from outside: each layer names another data directory, and
/// <c>domain add</c>/<c>domain list</c> show which database the program opened. Sources, weakest
/// first: config/appsettings.json beside the program, /etc/mailauth/appsettings.json,
/// <c>--config FILE</c>, environment variables; never a file in the working directory.
/// </summary>
[TestFixture]
public sealed class ConfigurationTests
{
    private MailAuthProcess _cli = null!;

    [SetUp]
    public void StartWithoutADataDirectoryVariable()
    {
        // Relative paths and files in the working directory: the program's own process.
        _cli = new MailAuthProcess { OutOfProcess = true };
        _cli.Environment.Remove("MailAuth__DataDirectory");
    }

    [TearDown]
    public void Stop() => _cli.Dispose();

    [Test]
    public async Task TheCopyBesideTheProgramApplies()
    {
        Expect(await _cli.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Assert.That(DatabaseExists("data"), Is.True, "its DataDirectory 'data', taken from the working directory");
    }

    [Test]
    public async Task AFileInTheWorkingDirectoryIsNeverRead()
    {
        // What someone who can write where an admin runs mailauth would plant.
        WriteFile("config/appsettings.json", """
            { "MailAuth": { "DataDirectory": "planted", "Authentication": { "TrustedNetworks": ["0.0.0.0/0"] } } }
            """);
        WriteFile("appsettings.json", """{ "MailAuth": { "DataDirectory": "planted-too" } }""");
        Expect(await _cli.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Assert.That(DatabaseExists("data"), Is.True, "the DataDirectory of the copy beside the program");
        Assert.That(DatabaseExists("planted") || DatabaseExists("planted-too"), Is.False);

        WriteFile("config/appsettings.json", "{ \"MailAuth\": ");
        Expect(await _cli.RunAsync("domain", "list"), 0, "family.example\t0 mailbox(es)");
    }

    [Test]
    public async Task EachLayerOverridesTheOneBelowKeyByKey()
    {
        WriteFile("override.json", """
            {
              // Comments are allowed, as in the shipped file.
              "MailAuth": { "DataDirectory": "from-config", "Imap": { "Port": 1143 } }
            }
            """);
        WriteFile("ports-only.json", """{ "MailAuth": { "Imap": { "Port": 2143 } } }""");

        Expect(await _cli.RunAsync("domain", "add", "beside.example"), 0, "domain beside.example added");
        Expect(await _cli.RunAsync("domain", "add", "config.example", "--config", "override.json"), 0, "domain config.example added");
        Expect(await _cli.RunAsync("--config", "override.json", "domain", "add", "before-verb.example"), 0, "domain before-verb.example added");
        // A --config file without DataDirectory leaves the value beside the program in force.
        Expect(await _cli.RunAsync("domain", "add", "layered.example", "--config", "ports-only.json"), 0, "domain layered.example added");
        _cli.Environment["MailAuth__DataDirectory"] = "from-env";
        Expect(await _cli.RunAsync("domain", "add", "env.example", "--config", "override.json"), 0, "domain env.example added");
        _cli.Environment.Remove("MailAuth__DataDirectory");

        Assert.That((await _cli.RunAsync("domain", "list")).Stdout, Is.EqualTo("beside.example\t0 mailbox(es)\nlayered.example\t0 mailbox(es)\n"));
        Assert.That((await _cli.RunAsync("domain", "list", "--config", "override.json")).Stdout,
            Is.EqualTo("before-verb.example\t0 mailbox(es)\nconfig.example\t0 mailbox(es)\n"));
        _cli.Environment["MailAuth__DataDirectory"] = "from-env";
        Assert.That((await _cli.RunAsync("domain", "list")).Stdout, Is.EqualTo("env.example\t0 mailbox(es)\n"));
    }

    /// <summary>The host's file, on a path of the test's own instead of /etc/mailauth/appsettings.json.</summary>
    [Test]
    public void TheSystemFileSitsBetweenTheCopyBesideTheProgramAndTheConfigOption()
    {
        var system = WriteFile("etc/appsettings.json", """
            { "MailAuth": { "DataDirectory": "from-etc", "Imap": { "Port": 1143 } } }
            """);
        var config = new FileInfo(WriteFile("override.json", """{ "MailAuth": { "DataDirectory": "from-config" } }"""));

        var withSystem = MailAuthConfiguration.Build(null, system);
        Assert.That(withSystem["MailAuth:DataDirectory"], Is.EqualTo("from-etc"));
        Assert.That(withSystem["MailAuth:Imap:Port"], Is.EqualTo("1143"));
        Assert.That(withSystem["MailAuth:Smtp:SubmissionPort"], Is.EqualTo("587"), "from the copy beside the program");

        var withConfig = MailAuthConfiguration.Build(config, system);
        Assert.That(withConfig["MailAuth:DataDirectory"], Is.EqualTo("from-config"));
        Assert.That(withConfig["MailAuth:Imap:Port"], Is.EqualTo("1143"), "key by key");

        var withoutSystem = MailAuthConfiguration.Build(null, Path.Combine(_cli.WorkingDirectory, "etc", "absent.json"));
        Assert.That(withoutSystem["MailAuth:DataDirectory"], Is.EqualTo("data"));
        Assert.That(withoutSystem["MailAuth:Imap:Port"], Is.EqualTo("143"));

        WriteFile("etc/appsettings.json", "{\n  \"MailAuth\": {\n");
        Assert.That(() => MailAuthConfiguration.Build(null, system), Throws.TypeOf<ConfigurationException>()
            .With.Message.StartWith($"cannot read configuration: Failed to load configuration from file '{system}': "));
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
    [TestCase("override.json", new[] { "serve", "--config", "override.json" })]
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

    private string WriteFile(string relativePath, string content)
    {
        var path = Path.Combine(_cli.WorkingDirectory, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }
}
