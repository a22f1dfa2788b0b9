using System.Text;
using System.Text.RegularExpressions;
using static MailAuth.Server.Tests.SaslService.SaslServiceServer;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>
/// The audit's attack on the throttle's memory bound, on the real server through the SASL service
/// (one connection, a client address per request): successes used to fill the table and every
/// clean-up then dropped the failure counters, so a guesser got all its guesses verified.
/// </summary>
[TestFixture]
public sealed partial class ThrottleCapacityTests
{
    [Test]
    public async Task GoodLoginsFromManyNetworksDoNotEmptyTheFailureCounters()
    {
        var (server, port) = await StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Authentication__Throttle__MaxTrackedEntries"] = "2000",
            ["MailAuth__Authentication__Throttle__MaxDelaySeconds"] = "0",
        });
        await using var _ = server;
        var (connection, _) = await ConnectAsync(port);
        await using var __ = connection;

        var good = new StringBuilder();
        for (var i = 0; i < 2100; i++)
        {
            good.Append(Auth(i + 1, $"10.9.{i / 256}.{i % 256}", Password));
        }
        await connection.SendAsync(good.ToString());
        for (var i = 0; i < 2100; i++)
        {
            Assert.That(await connection.ReadLineAsync(TimeSpan.FromSeconds(30)), Does.StartWith($"OK\t{i + 1}\t"));
        }

        for (var i = 0; i < 40; i++)
        {
            await connection.SendAsync(Auth(5000 + i, "198.51.100.66", $"guess-{i}"));
            Assert.That(await connection.ReadLineAsync(TimeSpan.FromSeconds(30)), Does.StartWith($"FAIL\t{5000 + i}\t"));
        }
        // The log is read from the server's output as it comes: wait for the last attempt's line.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (WrongPassword().Matches(server.Log).Count + Throttled().Matches(server.Log).Count < 40 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        var verified = WrongPassword().Matches(server.Log).Count;
        Assert.That(verified, Is.EqualTo(5), "only the pair limit's worth of guesses is verified");
        Assert.That(Throttled().Matches(server.Log).Count, Is.EqualTo(35));
    }

    private static string Auth(int id, string rip, string password) =>
        $"AUTH\t{id}\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip={rip}\tsecured\tresp={PlainResponse(Address, password)}\n";

    [GeneratedRegex(@"auth result=failed reason=wrong-password protocol=sasl-service .* remote=198\.51\.100\.66 ")]
    private static partial Regex WrongPassword();

    [GeneratedRegex(@"auth result=failed reason=throttled protocol=sasl-service .* remote=198\.51\.100\.66 ")]
    private static partial Regex Throttled();
}
