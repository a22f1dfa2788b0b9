using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 16: no page tells a stranger whether an address, a login identifier or a phone number is
/// known. On one real server, <c>/test</c>, <c>/login</c>, <c>/forgot-password</c> and
/// <c>/forgot-login</c> answer an unknown and an existing one with the same status, headers and page
/// (but for the antiforgery token and the value typed back) in the same time.
/// </summary>
/// <remarks>
/// Each sample is a client of its own (another loopback address, so another network for the
/// throttles and request limits): every request stays within the limits a person has, so nothing is
/// throttled or refused, and a timing difference can only come from the page's own work. The hashing
/// is heavier than the other tests' (16 MiB) so that a skipped Argon2 verification would stand out
/// of the noise of a shared machine: medians of interleaved samples, within a factor and a slack.
/// </remarks>
[TestFixture]
public sealed class WebNoEnumerationTests
{
    private const int Samples = 7;
    private const string Password = "an account password";
    private static readonly (string Identifier, string Phone)[] Accounts =
    [
        ("anna@elsewhere.example", "+41790000001"),
        ("ben@elsewhere.example", "+41790000002"),
        ("cleo@elsewhere.example", "+41790000003"),
    ];

    [Test]
    public async Task UnknownAndExistingIdentifiersGetTheSameStatusPageAndTime()
    {
        await using var web = await WebServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Hashing__MemoryKiB"] = "16384",
            ["MailAuth__Hashing__Iterations"] = "2",
        });
        foreach (var (identifier, phone) in Accounts)
        {
            Assert.That((await web.Server.Cli.RunWithInputAsync(Password + "\n", "account", "add", identifier, "--name", "Someone Else",
                "--phone", phone, "--secondary-email", "secondary-" + identifier)).ExitCode, Is.Zero);
        }
        // Each existing account is asked for at most 3 times (the per-identifier and per-number limits).
        var existing = Enumerable.Range(0, Samples).Select(i => Accounts[i % Accounts.Length]).ToArray();

        await CompareAsync(web, 1, "/test",
            i => ($"nobody{i}@example.org", [("address", $"nobody{i}@example.org"), ("password", $"wrong {i}")]),
            i => (WebServer.Address, [("address", WebServer.Address), ("password", $"wrong {i}")]),
            HttpStatusCode.Forbidden);
        await CompareAsync(web, 2, "/login",
            i => ($"nobody{i}@example.org", [("identifier", $"nobody{i}@example.org"), ("password", $"wrong {i}"), ("totp", "")]),
            i => (existing[i].Identifier, [("identifier", existing[i].Identifier), ("password", $"wrong {i}"), ("totp", "")]),
            HttpStatusCode.Forbidden);
        await CompareAsync(web, 3, "/forgot-password",
            i => ($"nobody{i}@example.org", [("identifier", $"nobody{i}@example.org")]),
            i => (existing[i].Identifier, [("identifier", existing[i].Identifier)]),
            HttpStatusCode.OK);
        await CompareAsync(web, 4, "/forgot-login",
            i => ($"+4179555000{i}", [("phone", $"+4179555000{i}")]),
            i => (existing[i].Phone, [("phone", existing[i].Phone)]),
            HttpStatusCode.OK);

        // The existing ones were really acted on: a reset link and the identifier went to each account.
        var outbox = (await web.Server.Cli.RunAsync("outbox", "list")).Stdout;
        Assert.That(Accounts.All(account => outbox.Contains($"The login identifier of your manager account is {account.Identifier}.", StringComparison.Ordinal)
            && outbox.Contains($"A password reset was requested for your manager account {account.Identifier}.", StringComparison.Ordinal)), Is.True, outbox);
        Assert.That(outbox, Does.Not.Contain("nobody"));
    }

    /// <summary>
    /// Posts <paramref name="unknown"/> and <paramref name="existing"/> <see cref="Samples"/> times each,
    /// interleaved, each pair from a client of its own, and asserts one answer and one time for all.
    /// </summary>
    private static async Task CompareAsync(
        WebServer web, int page, string path,
        Func<int, (string Typed, (string Name, string Value)[] Fields)> unknown,
        Func<int, (string Typed, (string Name, string Value)[] Fields)> existing,
        HttpStatusCode expected)
    {
        var unknownTimes = new List<double>();
        var existingTimes = new List<double>();
        string? first = null;
        for (var i = 0; i < Samples; i++)
        {
            using var client = new WebPageClient(web, IPAddress.Parse($"127.0.{page}.{10 + i}"));
            // The form (its token) on the connection the posts then reuse: no handshake is timed.
            Assert.That((await client.GetAsync(path)).Status, Is.EqualTo(HttpStatusCode.OK));
            // Which goes first alternates, so that neither is favoured by the order.
            foreach (var isExisting in i % 2 == 0 ? [false, true] : new[] { true, false })
            {
                var (typed, fields) = isExisting ? existing(i) : unknown(i);
                var clock = Stopwatch.StartNew();
                var answer = await client.PostAsync(path, true, fields);
                (isExisting ? existingTimes : unknownTimes).Add(clock.Elapsed.TotalMilliseconds);
                Assert.That(answer.Status, Is.EqualTo(expected), $"{path} {typed}: {answer.Body}");
                var shown = Comparable(answer, typed);
                first ??= shown;
                Assert.That(shown, Is.EqualTo(first), $"{path} answered {typed} unlike the first");
            }
        }
        var (unknownMedian, existingMedian) = (Median(unknownTimes), Median(existingTimes));
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{path}: median {unknownMedian:0.0} ms unknown, {existingMedian:0.0} ms existing ({Samples} each)"));
        // Within a factor of 3 and 20 ms: a shared 2-core machine's noise passes, a skipped Argon2
        // verification (tens of milliseconds against a few) or a second database round does not.
        var (fast, slow) = (Math.Min(unknownMedian, existingMedian), Math.Max(unknownMedian, existingMedian));
        Assert.That(slow, Is.LessThanOrEqualTo(3 * fast + 20),
            $"{path}: unknown {string.Join(", ", unknownTimes.Select(Round))} ms; existing {string.Join(", ", existingTimes.Select(Round))} ms");
    }

    /// <summary>The answer as a stranger sees it, but for the token and the value typed back.</summary>
    private static string Comparable(WebPageClient.Page answer, string typed) =>
        string.Join("\n", answer.Headers.Where(header => header.Key != "Date").OrderBy(header => header.Key, StringComparer.Ordinal)
            .Select(header => header.Key + ": " + header.Value))
        + "\n\n" + WebPageClient.WithoutToken(answer.Body).Replace(WebUtility.HtmlEncode(typed), "TYPED", StringComparison.Ordinal);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Round(double milliseconds) => milliseconds.ToString("0", CultureInfo.InvariantCulture);
}
