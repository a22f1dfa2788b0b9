using System.Diagnostics;

namespace MailAuth.Server.Tests.Observability;

/// <summary>Issue 20: <c>config/prometheus-alerts.yml</c> is valid for Prometheus and each alert passes its unit tests.</summary>
[TestFixture]
[Category("External")]
public sealed class AlertRulesTests
{
    internal static string ConfigDirectory => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "config"));

    [Test]
    public async Task PromtoolChecksTheRules()
    {
        var (exit, output) = await PromtoolAsync("check", "rules", "prometheus-alerts.yml");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("SUCCESS: 6 rules found"));
    }

    [Test]
    public async Task EveryAlertFiresOnItsCaseAndNotOnItsNeighbour()
    {
        var (exit, output) = await PromtoolAsync("test", "rules", "prometheus-alerts.test.yml");
        Assert.That((exit, output), Is.EqualTo((0, "Unit Testing:  prometheus-alerts.test.yml\n  SUCCESS\n\n")));
    }

    [Test]
    public void EveryAlertHasAUnitTest()
    {
        var alerts = File.ReadLines(Path.Combine(ConfigDirectory, "prometheus-alerts.yml"))
            .Select(line => line.Trim()).Where(line => line.StartsWith("- alert: ", StringComparison.Ordinal)).Select(line => line["- alert: ".Length..]);
        var tested = File.ReadLines(Path.Combine(ConfigDirectory, "prometheus-alerts.test.yml"))
            .Select(line => line.Trim()).Where(line => line.StartsWith("alertname: ", StringComparison.Ordinal)).Select(line => line["alertname: ".Length..]);
        Assert.That(tested.Distinct(), Is.EquivalentTo(alerts));
    }

    private static async Task<(int Exit, string Output)> PromtoolAsync(params string[] args)
    {
        var start = new ProcessStartInfo("promtool") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = ConfigDirectory };
        args.ToList().ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool is not installed (./test.sh installs it)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
