using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// The header cache seen through IMAP on the real server: the message-list FETCH and header SEARCH
/// answers are the same bytes with the cache off, while it fills and once filled; a message removed
/// or replaced behind the server's back, a cache file damaged between restarts and two sessions
/// filling it at once change nothing in the answers.
/// </summary>
[TestFixture]
public sealed class HeaderCacheImapTests
{
    private const string Address = "lists@family.example";

    /// <summary>What Thunderbird, Apple Mail and a quick search send on a folder, and a few odd cases.</summary>
    private static readonly string[] Script =
    [
        "FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)",
        "UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])",
        "FETCH 1:* (INTERNALDATE BODY BODY.PEEK[HEADER.FIELDS (SUBJECT LIST-POST)]<2.20>)",
        "FETCH 2:4 (ENVELOPE BODY.PEEK[HEADER.FIELDS (X-Other)])",
        "SEARCH FROM anna",
        "SEARCH OR TO family CC bob",
        "SEARCH BCC carol",
        "SEARCH SUBJECT \"report\"",
        "SEARCH HEADER X-Priority 1",
        "SEARCH HEADER List-Post \"\"",
        "SEARCH HEADER X-Other hidden",
        "SEARCH SENTBEFORE 1-Jan-2024",
        "SEARCH CHARSET UTF-8 SUBJECT {5+}\r\ncaf\u00e9",
    ];

    /// <summary>Varied messages: multipart with an attachment, message/rfc822, encoded words, 8-bit and folded headers, bare LF, no body.</summary>
    private static readonly string[] Messages =
    [
        "From: Anna <anna@family.example>\r\nTo: Ben <ben@family.example>, team@family.example\r\nCc: bob@family.example\r\nSubject: Weekly report\r\n"
            + "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <1@family.example>\r\nX-Priority: 1 (Highest)\r\nX-Other: hidden\r\n\r\nbody one\r\n",
        "From: =?UTF-8?Q?Caf=C3=A9_Owner?= <owner@cafe.example>\r\nTo: anna@family.example\r\nSubject: =?UTF-8?B?Y2Fmw6kgbWVudQ==?=\r\n"
            + "Date: Wed, 15 Nov 2023 08:00:00 +0100\r\nReferences: <1@family.example>\r\n <0@family.example>\r\nIn-Reply-To: <1@family.example>\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\nList-Post: <mailto:list@cafe.example>\r\n\r\n"
            + "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nmenu\r\n--b1\r\nContent-Type: application/pdf; name=\"m.pdf\"\r\n"
            + "Content-Disposition: attachment; filename=\"m.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1--\r\n",
        "From: news@lists.example\nTo: undisclosed-recipients:;\nSubject: bare LF\n report folded\nDate: 1 Jan 2024 00:00:00 -0500\n"
            + "Content-Type: message/rfc822\nBcc: carol@family.example\n\nFrom: inner@x.example\nSubject: inner\n\ninner body\n",
        "From: \"M\u00fcller, J\u00fcrgen\" <jm@family.example>\r\nSubject: caf\u00e9 8-bit\r\nTo: anna@family.example\r\nTo: second-to@family.example\r\n"
            + "Reply-To: \r\nPriority: urgent\r\nDate: Thu, 16 Nov 2023 10:00:00 +0000\r\n",
        "Subject: no from at all\r\nX-Other: hidden too\r\n\r\n",
    ];

    private static async Task<List<string>> RunScript(ImapTestClient client, string folder)
    {
        var answers = new List<string>();
        Assert.That((await client.CommandAsync("s", $"EXAMINE {folder}"))[^1], Does.StartWith("s OK"));
        for (var i = 0; i < Script.Length; i++)
        {
            var lines = await client.CommandAsync($"c{i}", Script[i]);
            Assert.That(lines[^1], Does.StartWith($"c{i} OK"), Script[i]);
            // \Recent belongs to a session (after a restart nothing is recent), not to the cache.
            answers.Add(Script[i] + "\n" + string.Join("\n", lines).Replace(" \\Recent", "", StringComparison.Ordinal).Replace("\\Recent", "", StringComparison.Ordinal));
        }
        return answers;
    }

    /// <summary>The same files (names and times) in a folder of the mailbox, so that every folder gets the same UIDs.</summary>
    private static void Populate(string folder)
    {
        for (var i = 0; i < Messages.Length; i++)
        {
            var path = Path.Combine(folder, "cur", $"{1700000000 + i}.M{i}P1.test:2,{(i % 2 == 0 ? "S" : "")}");
            File.WriteAllBytes(path, Encoding.UTF8.GetBytes(Messages[i]));
            File.SetLastWriteTimeUtc(path, DateTime.UnixEpoch.AddSeconds(1700000000 + i));
        }
    }

    /// <summary>Another program: the second message deleted, the third replaced by an edited copy under a new name.</summary>
    private static async Task ChangeBehindTheServer(string folder, ImapTestClient session)
    {
        var cur = Path.Combine(folder, "cur");
        File.Delete(Path.Combine(cur, "1700000001.M1P1.test:2,"));
        File.Delete(Path.Combine(cur, "1700000002.M2P1.test:2,S"));
        var edited = Path.Combine(cur, "1700000099.M99P1.test:2,S");
        File.WriteAllText(edited, Messages[2].Replace("bare LF", "edited subject", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(edited, DateTime.UnixEpoch.AddSeconds(1700000099));
        await session.CommandAsync("n", "NOOP");
    }

    [Test]
    public async Task AnswersAreTheSameBytesWithoutTheCacheWhileItFillsAndFromItAcrossChangesDamageAndSessions()
    {
        var cli = new MailAuthProcess();
        var cacheOff = new Dictionary<string, string> { ["MailAuth__Imap__HeaderCache"] = "false" };
        var cacheOn = new Dictionary<string, string> { ["MailAuth__Imap__HeaderCache"] = "true" };
        try
        {
            List<string> unchanged, changed;
            string inbox;
            await using (var off = await RunningServer.StartAsync(cacheOff, cli))
            {
                Assert.That((await cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
                Assert.That((await cli.RunWithInputAsync(FlagTestMailboxes.Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
                var mailboxes = new FlagTestMailboxes(off);
                inbox = mailboxes.InboxPath(Address);
                await using var client = await mailboxes.Login(Address, select: null); // makes the special folders
                foreach (var folder in new[] { ".Archive", ".Drafts", ".Sent", ".Junk" })
                {
                    Populate(Path.Combine(inbox, folder));
                }
                unchanged = await RunScript(client, "Archive");
                await client.CommandAsync("e", "EXAMINE Drafts"); // numbered before the change, as Junk below
                await ChangeBehindTheServer(Path.Combine(inbox, ".Drafts"), client);
                changed = await RunScript(client, "Drafts");
                Assert.That(File.Exists(Path.Combine(inbox, ".Archive", "mailauth-headercache")), Is.False, "off means off");
            }
            Assert.That(string.Join("\n", changed), Does.Contain("edited subject").And.Not.Contain("bare LF"));

            var sentCache = Path.Combine(inbox, ".Sent", "mailauth-headercache");
            await using (var on = await RunningServer.StartAsync(cacheOn, cli))
            {
                var mailboxes = new FlagTestMailboxes(on);
                await using var first = await mailboxes.Login(Address, select: null);
                await using var second = await mailboxes.Login(Address, select: null);

                // Two sessions filling one folder's cache at once, then reading it.
                var both = await Task.WhenAll(RunScript(first, "Sent"), RunScript(second, "Sent"));
                Assert.That(both[0], Is.EqualTo(unchanged), "filling");
                Assert.That(both[1], Is.EqualTo(unchanged), "filling from another session");
                Assert.That(await RunScript(first, "Sent"), Is.EqualTo(unchanged), "from the cache");
                Assert.That(new FileInfo(sentCache).Length, Is.GreaterThan(1000));

                // Damaged while the server runs: the damaged record is not used.
                var bytes = File.ReadAllBytes(sentCache);
                for (var i = bytes.Length / 3; i < bytes.Length; i += 97)
                {
                    bytes[i] ^= 0x04;
                }
                File.WriteAllBytes(sentCache, bytes);
                Assert.That(await RunScript(second, "Sent"), Is.EqualTo(unchanged), "past damage");

                // Cached, then changed behind the server's back.
                Assert.That(await RunScript(first, "Junk"), Is.EqualTo(unchanged));
                await ChangeBehindTheServer(Path.Combine(inbox, ".Junk"), first);
                Assert.That(await RunScript(first, "Junk"), Is.EqualTo(changed), "after the change");
            }

            // Damaged between restarts: torn at the end and overwritten in the middle.
            var junkCache = Path.Combine(inbox, ".Junk", "mailauth-headercache");
            var junk = File.ReadAllBytes(junkCache);
            junk[junk.Length / 2] ^= 0x55;
            File.WriteAllBytes(junkCache, [.. junk, .. "H\u0001\u0002"u8]);
            await using (var again = await RunningServer.StartAsync(cacheOn, cli))
            {
                await using var client = await new FlagTestMailboxes(again).Login(Address, select: null);
                Assert.That(await RunScript(client, "Junk"), Is.EqualTo(changed), "after a restart on a damaged file");
                Assert.That(await RunScript(client, "Sent"), Is.EqualTo(unchanged), "after a restart");
            }
        }
        finally
        {
            cli.Dispose();
        }
    }
}
