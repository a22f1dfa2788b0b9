using System.Diagnostics;
using System.Globalization;
using MailAuth.Server.Tests.Hostile;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Lmtp;

namespace MailAuth.Server.Tests.Maildir;

/// <summary>
/// IDLE learns of new mail from a watch on new/ (inotify), not from its poll: with the poll set to a
/// minute, a file another program renames into new/ and a message delivered over LMTP both reach two
/// idling sessions on one INBOX within seconds, and the two sessions share one inotify watch, removed
/// when both have logged out.
/// </summary>
[TestFixture]
public sealed class NewMailWatchersTests
{
    /// <summary>Far below the one-minute poll: only the watch can have woken the sessions this soon.</summary>
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Test]
    public async Task DeliveriesIntoNewWakeEveryIdlingSessionAtOnce()
    {
        await using var lmtp = await LmtpServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Imap__IdlePollIntervalMilliseconds"] = "60000" });
        var server = lmtp.Server;
        var baseline = InotifyWatches(server.ProcessId);
        var first = await Idling(server);
        var second = await Idling(server);
        await using (first)
        await using (second)
        {
            await WaitFor(() => InotifyWatches(server.ProcessId) == baseline + 1, "one watch for both sessions");

            var inbox = Path.Combine(lmtp.Cli.DataDirectory, "mail", "family.example", "julie");
            var name = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.P{Environment.ProcessId}.othertool";
            await File.WriteAllTextAsync(Path.Combine(inbox, "tmp", name), "Subject: dropped by another program\r\n\r\nhello\r\n");
            var clock = Stopwatch.StartNew();
            File.Move(Path.Combine(inbox, "tmp", name), Path.Combine(inbox, "new", name));
            await Exists(first, 1);
            await Exists(second, 1);
            Assert.That(clock.Elapsed, Is.LessThan(Soon), "a file renamed into new/");

            await using (var delivery = await lmtp.ConnectAsync())
            {
                await delivery.SendAsync($"LHLO mx.example\r\nMAIL FROM:<anna@family.example>\r\nRCPT TO:<{LmtpServer.Julie}>\r\nDATA\r\n");
                while (await delivery.ReadLineAsync() is { } line && !line.StartsWith("354 ", StringComparison.Ordinal))
                {
                }
                clock.Restart();
                await delivery.SendAsync("Subject: over LMTP\r\n\r\nhello\r\n.\r\n");
                Assert.That(await delivery.ReadLineAsync(), Does.StartWith($"250 2.0.0 <{LmtpServer.Julie}>"));
            }
            await Exists(first, 2);
            await Exists(second, 2);
            Assert.That(clock.Elapsed, Is.LessThan(Soon), "a message delivered over LMTP");

            foreach (var client in new[] { first, second })
            {
                await client.SendAsync("DONE\r\n");
                Assert.That((await client.ReadUntilTaggedAsync("i"))[^1], Is.EqualTo("i OK IDLE terminated"));
                Assert.That((await client.CommandAsync("z", "LOGOUT"))[^1], Does.StartWith("z OK"));
            }
        }
        await WaitFor(() => InotifyWatches(server.ProcessId) == baseline, "the watch removed after the last session left");
    }

    private static async Task<ImapTestClient> Idling(RunningServer server)
    {
        var client = await ImapTestClient.ConnectAsync(server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {LmtpServer.Julie} \"{LmtpServer.Password}\""))[^1], Does.StartWith("l OK"));
        var selected = await client.CommandAsync("s", "SELECT INBOX");
        Assert.That(selected, Does.Contain("* 0 EXISTS"));
        await client.SendAsync("i IDLE\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        return client;
    }

    /// <summary>Reads pushed lines (EXISTS, RECENT, FETCH…) until <c>* n EXISTS</c>.</summary>
    private static async Task Exists(ImapTestClient client, int count)
    {
        var expected = string.Create(CultureInfo.InvariantCulture, $"* {count} EXISTS");
        while (await client.ReadLineAsync() is var line && line != expected)
        {
            Assert.That(line, Does.StartWith("* "), "an untagged update while idling");
        }
    }

    /// <summary>The inotify watches the process holds: one "inotify wd:" line per watch in the fdinfo of its inotify descriptors.</summary>
    private static int InotifyWatches(int processId)
    {
        var count = 0;
        foreach (var info in Directory.EnumerateFiles($"/proc/{processId}/fdinfo"))
        {
            try
            {
                count += File.ReadLines(info).Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                // The descriptor was closed meanwhile.
            }
        }
        return count;
    }

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(deadline.Elapsed, Is.LessThan(Soon), what);
            await Task.Delay(20);
        }
    }
}
