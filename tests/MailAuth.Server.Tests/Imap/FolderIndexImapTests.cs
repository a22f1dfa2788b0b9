using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// The shared folder index seen through IMAP on the real server: two sessions changing one INBOX at
/// once, another program dropping and renaming files, then a restart that must keep UIDVALIDITY,
/// every UID and every flag.
/// </summary>
[TestFixture]
public sealed partial class FolderIndexImapTests
{
    private const string Address = "index@family.example";

    /// <summary>UID FETCH 1:* (UID FLAGS) as "uid flags" lines; \Recent left out (it belongs to a session).</summary>
    private static async Task<List<string>> UidsAndFlags(ImapTestClient client, string tag)
    {
        await client.CommandAsync(tag + "n", "NOOP");
        var lines = await client.CommandAsync(tag, "UID FETCH 1:* (UID FLAGS)");
        Assert.That(lines[^1], Does.StartWith(tag + " OK"));
        return [.. lines.Select(l => FetchLine().Match(l)).Where(m => m.Success)
            .Select(m => m.Groups[1].Value + " " + string.Join(' ', m.Groups[2].Value.Split(' ').Where(f => f is not ("" or "\\Recent")).Order(StringComparer.Ordinal)))];
    }

    [Test]
    public async Task TwoSessionsAndAnotherProgramChangeOneInboxAndARestartKeepsEveryUidAndFlag()
    {
        var cli = new MailAuthProcess();
        try
        {
            List<string> before;
            uint validity;
            var first = await RunningServer.StartAsync(existing: cli);
            var mailboxes = new FlagTestMailboxes(first);
            try
            {
                Assert.That((await cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
                Assert.That((await cli.RunWithInputAsync(FlagTestMailboxes.Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
                await using var writer = await mailboxes.Login(Address);
                await using var flagger = await mailboxes.Login(Address);
                var appends = Task.Run(async () =>
                {
                    for (var i = 0; i < 15; i++)
                    {
                        Assert.That(await FlagTestMailboxes.Append(writer, "INBOX", $"message {i}", i % 2 == 0 ? "$Work" : ""), Does.StartWith("ap OK"));
                    }
                });
                var stores = Task.Run(async () =>
                {
                    for (var i = 0; i < 15; i++)
                    {
                        await flagger.CommandAsync($"n{i}", "NOOP");
                        await flagger.CommandAsync($"f{i}", $"UID STORE {i + 1} +FLAGS.SILENT (\\Seen)");
                        await flagger.CommandAsync($"c{i}", "COPY 1 INBOX");
                    }
                });
                await Task.WhenAll(appends, stores);

                // Another program: a delivery into new/, a flag set by renaming, a message deleted.
                var inbox = mailboxes.InboxPath(Address);
                File.WriteAllText(Path.Combine(inbox, "new", "1700000000.external.host"), "From: x@family.example\r\nSubject: dropped\r\n\r\nbody\r\n");
                var files = Directory.GetFiles(Path.Combine(inbox, "cur")).Order(StringComparer.Ordinal).ToList();
                File.Move(files[0], files[0] + "F");
                File.Delete(files[1]);

                before = await UidsAndFlags(writer, "w");
                Assert.That(await UidsAndFlags(flagger, "g"), Is.EqualTo(before), "both sessions see the same folder");
                Assert.That(before, Has.Count.EqualTo(Directory.GetFiles(Path.Combine(inbox, "cur")).Length));
                Assert.That(before.Select(l => uint.Parse(l.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)), Is.Ordered.Ascending.And.Unique);
                Assert.That(before, Has.Some.Contains("\\Flagged"));
                validity = FlagTestMailboxes.UidValidity(await writer.CommandAsync("x", "EXAMINE INBOX"));
            }
            finally
            {
                await first.DisposeAsync();
            }

            await using var second = await RunningServer.StartAsync(existing: cli);
            await using var again = await new FlagTestMailboxes(second).Login(Address, select: null);
            Assert.That(FlagTestMailboxes.UidValidity(await again.CommandAsync("s", "SELECT INBOX")), Is.EqualTo(validity));
            Assert.That(await UidsAndFlags(again, "a"), Is.EqualTo(before));
        }
        finally
        {
            cli.Dispose();
        }
    }

    [GeneratedRegex(@"^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)$")]
    private static partial Regex FetchLine();
}
