using System.Text.Json;

namespace MailAuth.Server.Tests.Web;

/// <summary>Issue 19: <c>mailauth dns records DOMAIN</c>.</summary>
[TestFixture]
public sealed class DnsCommandTests
{
    private static MailAuthProcess Cli()
    {
        var cli = new MailAuthProcess();
        cli.Environment["MailAuth__Smtp__HostName"] = "mail.example.net";
        cli.Environment["MailAuth__Web__Port"] = "443";
        cli.Environment["MailAuth__Web__HttpPort"] = "80";
        return cli;
    }

    [Test]
    public async Task PrintsTheMxTheSrvRecordsAndTheSetUpNamesOfAHostedDomain()
    {
        using var cli = Cli();
        cli.Environment["MailAuth__Imap__Port"] = "0";
        Assert.That((await cli.RunAsync("domain", "add", "Example.ORG")).ExitCode, Is.Zero);
        var result = await cli.RunAsync("dns", "records", "example.org");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        static string Squeeze(string line) => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.That(lines.Where(line => !line.StartsWith(';')).Select(Squeeze), Is.EqualTo(new[]
        {
            "example.org. 3600 IN MX 10 mail.example.net.",
            "_imaps._tcp.example.org. 3600 IN SRV 0 1 993 mail.example.net.",
            "_imap._tcp.example.org. 3600 IN SRV 0 0 0 .",
            "_submissions._tcp.example.org. 3600 IN SRV 0 1 465 mail.example.net.",
            "_submission._tcp.example.org. 3600 IN SRV 10 1 587 mail.example.net.",
            "_pop3s._tcp.example.org. 3600 IN SRV 0 0 0 .",
            "_pop3._tcp.example.org. 3600 IN SRV 0 0 0 .",
            "autoconfig.example.org. 3600 IN CNAME mail.example.net.",
            "autodiscover.example.org. 3600 IN CNAME mail.example.net.",
            "_autodiscover._tcp.example.org. 3600 IN SRV 0 1 443 mail.example.net.",
        }));
        Assert.That(lines.Where(line => line.StartsWith(';')), Has.Some.Contains("SPF, DKIM and DMARC").And.Some.Contains("autoconfig.example.org and autodiscover.example.org"));

        var json = await cli.RunAsync("dns", "records", "example.org", "--json");
        using var document = JsonDocument.Parse(json.Stdout);
        var types = document.RootElement.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("type").GetString()).ToList();
        Assert.That(types, Is.EqualTo(new[] { "MX", "SRV", "SRV", "SRV", "SRV", "SRV", "SRV", "CNAME", "CNAME", "SRV" }));
        Assert.That(document.RootElement.GetProperty("domain").GetString(), Is.EqualTo("example.org"));
    }

    [Test]
    public async Task AnUnhostedDomainIsOneLineOnStandardError()
    {
        using var cli = Cli();
        var result = await cli.RunAsync("dns", "records", "other.example");
        Assert.That((result.ExitCode, result.Stdout, result.Stderr), Is.EqualTo((1, "", "error: domain other.example is not hosted here (see mailauth domain list)\n")));
        var invalid = await cli.RunAsync("dns", "records", "not a domain");
        Assert.That(invalid.ExitCode, Is.EqualTo(1));
        Assert.That(invalid.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task WithoutTheWebListenerThereAreNoSetUpNames()
    {
        using var cli = new MailAuthProcess();
        Assert.That((await cli.RunAsync("domain", "add", "example.org")).ExitCode, Is.Zero);
        var result = await cli.RunAsync("dns", "records", "example.org");
        Assert.That(result.Stdout, Does.Not.Contain("autoconfig.example.org.").And.Contain("; MailAuth:Web:Port is 0")
            .And.Contain("; MailAuth:Smtp:HostName is empty"));
    }
}
