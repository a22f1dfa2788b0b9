namespace MailAuth.Server.Tests.Cli;

[TestFixture]
public sealed class ImportPathTests
{
    [Test]
    public async Task OnlyABareDashMeansStandardInput()
    {
        // "./-" is relative to the program's working directory.
        using var cli = new MailAuthProcess { OutOfProcess = true };
        await File.WriteAllTextAsync(Path.Combine(cli.WorkingDirectory, "-"), "fromfile@family.example:{PLAIN}file-pw\n");
        var fromFile = await cli.RunAsync("mailbox", "import", "./-", "--create-domains");
        Assert.That(fromFile.Stdout, Does.StartWith("imported 1 mailbox(es)"), fromFile.ToString());
        var fromStdin = await cli.RunWithInputAsync("fromstdin@family.example:{PLAIN}stdin-pw\n", "mailbox", "import", "-");
        Assert.That(fromStdin.Stdout, Does.StartWith("imported 1 mailbox(es)"), fromStdin.ToString());
        var list = (await cli.RunAsync("mailbox", "list")).Stdout;
        Assert.That(list, Does.Contain("fromfile@family.example").And.Contain("fromstdin@family.example"));
    }
}
