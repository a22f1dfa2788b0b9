using System.Buffers.Binary;
using System.Text;
using MailKit;
using MailKit.Search;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// Header SEARCH, SORT, THREAD and HEADER.FIELDS answered from the header cache's search-ready text
/// and line index (format 2): the same answers, byte for byte, as with the cache off, while it fills,
/// once filled, and after a restart on a cache file of the previous format whose records would
/// answer wrongly if read; encoded words (RFC 2047) in several charsets, 8-bit headers, comments in
/// addresses, bare LF and a header without a final line break; a message file replaced in cur/
/// behind the server's back is cached anew. MailKit and Python's imaplib search through it.
/// </summary>
[TestFixture]
public sealed class HeaderSearchCacheTests
{
    private const string Address = "searcher@family.example";

    private static readonly string[] Messages =
    [
        "From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@family.example> (work)\r\nTo: Anna <anna@family.example>\r\n"
            + "Subject: =?UTF-8?B?w5xiZXJzaWNodA==?= report\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <a@family.example>\r\n"
            + "X-Other: secret\r\n\r\nbody zero\r\n",
        "From: \"Stra\u00dfe, \u00d6mer\" <oemer@family.example>\r\nTo: team@family.example,\r\n =?UTF-8?Q?Caf=C3=A9?= <cafe@family.example>\r\n"
            + "Cc: (comment) bob@family.example\r\nSubject: caf\u00e9 men\u00fc\r\nDate: Wed, 15 Nov 2023 23:30:00 -0800\r\n"
            + "References: <a@family.example>\r\nIn-Reply-To: <a@family.example>\r\nMessage-ID: <b@family.example>\r\n\r\nbody one\r\n",
        "From: news@lists.example\nSubject: bare LF\n folded\nTo: a@family.example\nTo: second@family.example\nBcc: carol@family.example\n"
            + "Date: 1 Jan 2024 00:00:00 -0500\n\nbody two\n",
        "Subject: =?utf-8?q?=C3=BCber?=\r\nFrom: x@family.example",
        "Subject: no from\r\nX-Priority: 1\r\nReply-To: \r\n\r\n",
    ];

    private static readonly string[] Script =
    [
        "SEARCH CHARSET UTF-8 FROM {7+}\r\nm\u00fcller",
        "SEARCH CHARSET UTF-8 FROM {7+}\r\nM\u00dcLLER",
        "SEARCH FROM work",
        "SEARCH CHARSET UTF-8 FROM {5+}\r\n\u00f6mer",
        "SEARCH CHARSET UTF-8 FROM {7+}\r\nstra\u00dfe",
        "SEARCH CHARSET UTF-8 TO {5+}\r\ncaf\u00e9",
        "SEARCH CC bob",
        "SEARCH CC comment",
        "SEARCH BCC carol",
        "SEARCH TO second",
        "SEARCH CHARSET UTF-8 SUBJECT {10+}\r\n\u00fcbersicht",
        "SEARCH CHARSET UTF-8 SUBJECT {5+}\r\n\u00dcBER",
        "SEARCH SUBJECT \"LF folded\"",
        "SEARCH SUBJECT \"bare LF\"",
        "SEARCH HEADER From \"\"",
        "SEARCH HEADER Reply-To \"\"",
        "SEARCH HEADER X-Other secret",
        "SEARCH HEADER x-priority 1",
        "SEARCH SENTON 15-Nov-2023",
        "SEARCH SENTBEFORE 1-Jan-2024",
        "SEARCH SENTSINCE 1-Jan-2024",
        "SEARCH NOT FROM family",
        "SEARCH OR SUBJECT report TO anna",
        "UID SEARCH FROM JM@FAMILY.EXAMPLE",
        "SEARCH RETURN (MIN MAX COUNT) FROM family",
        "SORT (SUBJECT) UTF-8 ALL",
        "SORT (FROM DATE) UTF-8 ALL",
        "SORT (REVERSE DISPLAYFROM) UTF-8 ALL",
        "THREAD REFERENCES UTF-8 ALL",
        "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (Subject From)])",
        "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (To)]<3.10>)",
        "FETCH 1:* (ENVELOPE BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID References In-Reply-To Reply-To X-Priority)])",
        "UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)",
    ];

    /// <summary>The script's answers, literals read as bytes and shown with their line breaks visible.</summary>
    private static async Task<List<string>> RunScript(ImapTestClient client)
    {
        Assert.That((await client.CommandAsync("e", "EXAMINE INBOX"))[^1], Does.StartWith("e OK"));
        var answers = new List<string>();
        for (var i = 0; i < Script.Length; i++)
        {
            answers.Add(Script[i] + "\n" + await Transcript(client, $"c{i}", Script[i]));
        }
        return answers;
    }

    private static async Task<string> Transcript(ImapTestClient client, string tag, string command)
    {
        await client.SendAsync($"{tag} {command}\r\n");
        var text = new StringBuilder();
        while (true)
        {
            var line = await client.ReadLineAsync();
            text.Append(line).Append('\n');
            if (line.EndsWith('}') && line.LastIndexOf('{') is var open and >= 0)
            {
                var literal = await client.ReadBytesAsync(int.Parse(line[(open + 1)..^1], System.Globalization.CultureInfo.InvariantCulture));
                text.Append(Encoding.UTF8.GetString(literal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal));
            }
            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                Assert.That(line, Does.StartWith(tag + " OK"), command);
                return text.ToString();
            }
        }
    }

    /// <summary>A literal as <see cref="Transcript"/> shows it.</summary>
    private static string Literal(string raw) =>
        $"{{{Encoding.UTF8.GetByteCount(raw)}}}\n" + raw.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Cur(string inbox) => Path.Combine(inbox, "cur");

    private static void Populate(string inbox)
    {
        for (var i = 0; i < Messages.Length; i++)
        {
            var path = Path.Combine(Cur(inbox), $"{1700000000 + i}.M{i}P1.search:2,{(i % 2 == 0 ? "S" : "")}");
            File.WriteAllBytes(path, Encoding.UTF8.GetBytes(Messages[i]));
            File.SetLastWriteTimeUtc(path, DateTime.UnixEpoch.AddSeconds(1700000000 + i));
        }
    }

    [Test]
    public async Task AnswersAreTheSameWithTheCacheOffOnAndAfterAFormatUpgradeAndAReplacedFileIsCachedAnew()
    {
        using var cli = new MailAuthProcess();
        var cacheOff = new Dictionary<string, string> { ["MailAuth__Imap__HeaderCache"] = "false" };
        var cacheOn = new Dictionary<string, string> { ["MailAuth__Imap__HeaderCache"] = "true" };
        List<string> expected;
        string inbox;
        await using (var off = await RunningServer.StartAsync(cacheOff, cli))
        {
            Assert.That((await cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
            Assert.That((await cli.RunWithInputAsync(FlagTestMailboxes.Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
            var mailboxes = new FlagTestMailboxes(off);
            inbox = mailboxes.InboxPath(Address);
            await using (await mailboxes.Login(Address, select: null))
            {
                // The mailbox's folders exist once it has logged in.
            }
            Populate(inbox);
            await using var client = await mailboxes.Login(Address, select: null);
            expected = await RunScript(client);
        }
        var all = string.Join("\n", expected);
        Assert.Multiple(() =>
        {
            Assert.That(expected[0], Does.EndWith("* SEARCH 1\nc0 OK SEARCH completed\n"), "an ISO-8859-1 encoded word, matched in lower case");
            Assert.That(expected[3], Does.Contain("* SEARCH 2\n"), "8-bit UTF-8 display name");
            Assert.That(expected[5], Does.Contain("* SEARCH 2\n"), "an encoded word in a folded To");
            Assert.That(expected[10], Does.Contain("* SEARCH 1\n"), "a base64 encoded word");
            Assert.That(expected[11], Does.Contain("* SEARCH 1 4\n"), "an encoded word in a header without a final line break");
            Assert.That(all, Does.Contain("BODY[HEADER.FIELDS (Subject From)] " + Literal("From: news@lists.example\nSubject: bare LF\n folded\n\r\n")),
                "bare LF lines as the file has them, in the file's order");
            Assert.That(all, Does.Contain("BODY[HEADER.FIELDS (Subject From)] " + Literal("Subject: =?utf-8?q?=C3=BCber?=\r\nFrom: x@family.example\r\n\r\n")),
                "the last line without its line break gets one, as from the file");
            Assert.That(all, Does.Contain("BODY[HEADER.FIELDS (To)]<3> " + Literal(" a@family.")));
        });

        var cacheFile = Path.Combine(inbox, "mailauth-headercache");
        await using (var on = await RunningServer.StartAsync(cacheOn, cli))
        {
            var mailboxes = new FlagTestMailboxes(on);
            await using var client = await mailboxes.Login(Address, select: null);
            Assert.That(await RunScript(client), Is.EqualTo(expected), "while the cache fills");
            Assert.That(await RunScript(client), Is.EqualTo(expected), "from the cache");
            Assert.That(File.ReadAllText(cacheFile, Encoding.Latin1), Does.StartWith("mailauth-headercache 2 "));

            using var mailKit = await MailKitClients.ImapAsync(on, Address, FlagTestMailboxes.Password);
            var folder = mailKit.Inbox;
            await folder.OpenAsync(FolderAccess.ReadOnly);
            var byName = await folder.SearchAsync(SearchQuery.FromContains("M\u00fcller"));
            var bySubject = await folder.SearchAsync(SearchQuery.SubjectContains("caf\u00e9").And(SearchQuery.HeaderContains("Cc", "bob")));
            Assert.That(byName.Select(u => u.Id), Is.EqualTo(new[] { 1u }), "MailKit: FROM with an encoded-word display name");
            Assert.That(bySubject.Select(u => u.Id), Is.EqualTo(new[] { 2u }), "MailKit: SUBJECT in 8-bit UTF-8 and HEADER Cc");
            await mailKit.DisconnectAsync(true);
        }

        // A cache file of format 1 (as the previous release wrote it) whose every record names a live
        // message and verifies by that format's checksum, but says something else: never to be read.
        var uidValidity = File.ReadAllText(cacheFile, Encoding.Latin1).Split('\n')[0].Split(' ')[^1];
        File.WriteAllBytes(cacheFile, PoisonedFormatOne(File.ReadAllBytes(cacheFile), uidValidity));
        await using (var upgraded = await RunningServer.StartAsync(cacheOn, cli))
        {
            var mailboxes = new FlagTestMailboxes(upgraded);
            await using var client = await mailboxes.Login(Address, select: null);
            Assert.That(await RunScript(client), Is.EqualTo(expected), "after the upgrade");
            Assert.That(await RunScript(client), Is.EqualTo(expected), "from the cache made anew");
            Assert.That(File.ReadAllText(cacheFile, Encoding.Latin1), Does.StartWith("mailauth-headercache 2 ").And.Not.Contain("POISON"));

            // Another program rewrites the first message (another recipient, longer): a new file under a
            // new name replaces it, as Maildir tools do (a base name's content never changes).
            var first = Directory.GetFiles(Cur(inbox), "1700000000.*").Single();
            var temporary = Path.Combine(inbox, "tmp", "replacement");
            File.WriteAllText(temporary, Messages[0].Replace("Anna <anna@family.example>", "Zoe Replaced <zoe@family.example>", StringComparison.Ordinal));
            File.Move(temporary, Path.Combine(Cur(inbox), "1700000099.M99P1.search:2,S"));
            File.Delete(first);
            await using var later = await mailboxes.Login(Address, select: null);
            Assert.That((await later.CommandAsync("e", "EXAMINE INBOX"))[^1], Does.StartWith("e OK"));
            var found = await Transcript(later, "r1", "SEARCH TO zoe");
            Assert.That(found, Does.Match("^\\* SEARCH \\d+\n"));
            Assert.That(await Transcript(later, "r2", "SEARCH TO anna"), Does.StartWith("* SEARCH\n"));
            var number = found.Split('\n')[0].Split(' ')[^1];
            Assert.That(await Transcript(later, "r3", $"FETCH {number} (BODY.PEEK[HEADER.FIELDS (To)])"), Does.Contain("To: Zoe Replaced <zoe@family.example>\\r\\n\\r\\n"));
        }
    }

    /// <summary>Index-only FETCH (formatted on its own path) gives the bytes the general FETCH gives for the same items.</summary>
    [Test]
    public async Task IndexOnlyFetchMatchesTheGeneralFetchWithKeywordsRecentAndModSeq()
    {
        await using var mailboxes = new FlagTestMailboxesOwner(await FlagTestMailboxes.StartAsync());
        var address = await mailboxes.Value.NewMailbox();
        await using var client = await mailboxes.Value.Login(address, select: null);
        for (var i = 0; i < 4; i++)
        {
            Assert.That(await FlagTestMailboxes.Append(client, "INBOX", $"m{i}", i % 2 == 0 ? "\\Seen" : ""), Does.Contain("OK"));
        }
        Assert.That((await client.CommandAsync("s", "SELECT INBOX (CONDSTORE)"))[^1], Does.StartWith("s OK"));
        Assert.That((await client.CommandAsync("k", "STORE 2,4 +FLAGS ($Label1 Work)"))[^1], Does.StartWith("k OK"));
        var fast = await client.CommandAsync("f", "FETCH 1:* (FLAGS UID MODSEQ RFC822.SIZE INTERNALDATE)");
        var general = await client.CommandAsync("g", "FETCH 1:* (FLAGS UID MODSEQ RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (X-None)])");
        Assert.That(fast, Has.Count.EqualTo(5));
        for (var i = 0; i < 4; i++)
        {
            // The general FETCH's literal "\r\n" makes two more lines: "" and ")".
            Assert.That(general[i * 3], Is.EqualTo(fast[i][..^1] + " BODY[HEADER.FIELDS (X-None)] {2}"));
        }
        Assert.That(fast[1], Does.StartWith("* 2 FETCH (FLAGS (").And.Contain("$Label1").And.Contain("Work").And.Contain("\\Recent").And.Contain(" MODSEQ ("));
    }

    [Test]
    [Category("External")]
    public async Task ImaplibSearchesTheCachedHeaders()
    {
        await using var mailboxes = new FlagTestMailboxesOwner(await FlagTestMailboxes.StartAsync());
        var address = await mailboxes.Value.NewMailbox();
        await using (await mailboxes.Value.Login(address, select: null))
        {
            // The mailbox's folders exist once it has logged in.
        }
        Populate(mailboxes.Value.InboxPath(address));
        const string Script = """
            import imaplib, json, sys
            port, user, password = sys.argv[1:4]
            m = imaplib.IMAP4('127.0.0.1', int(port))
            m.login(user, password)
            m.select('INBOX', readonly=True)
            result = []
            for _ in range(2):
                m.literal = 'müller'.encode()
                result.append(m.search('UTF-8', 'FROM')[1][0].decode())
                result.append(m.search(None, 'OR', 'SUBJECT', 'report', 'BCC', 'carol')[1][0].decode())
                result.append(m.uid('SEARCH', 'HEADER', 'Reply-To', '""')[1][0].decode())
            m.logout()
            print(json.dumps(result))
            """;
        var run = await ExternalClient.RunAsync("python3", ExternalClient.WriteScript(Script),
            mailboxes.Value.Server.ImapPort.ToString(System.Globalization.CultureInfo.InvariantCulture), address, FlagTestMailboxes.Password);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Stdout.Trim(), Is.EqualTo("[\"1\", \"1 3\", \"5\", \"1\", \"1 3\", \"5\"]"), "filling the cache, then from it");
    }

    /// <summary>Format 1 records (kind, length, FNV-1a checksum, uid, size, name, payload) for every record of a format 2 file, each with a false payload.</summary>
    private static byte[] PoisonedFormatOne(byte[] formatTwo, string uidValidity)
    {
        var output = new MemoryStream();
        output.Write(Encoding.ASCII.GetBytes($"mailauth-headercache 1 {uidValidity}\n"));
        var position = Array.IndexOf(formatTwo, (byte)'\n') + 1;
        while (position + 9 <= formatTwo.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(formatTwo.AsSpan(position + 1));
            var identity = formatTwo.AsSpan(position + 9, 14 + BinaryPrimitives.ReadUInt16LittleEndian(formatTwo.AsSpan(position + 9 + 12))).ToArray();
            var kind = formatTwo[position];
            byte[] first = kind == 'H' ? Encoding.ASCII.GetBytes("(NIL \"POISON\" NIL NIL NIL NIL NIL NIL NIL NIL)") : Encoding.ASCII.GetBytes("(\"TEXT\" \"POISON\" NIL NIL NIL \"7BIT\" 1 1)");
            var second = kind == 'H' ? Encoding.ASCII.GetBytes("Subject: POISON\r\nFrom: poison@family.example\r\nTo: poison@family.example\r\n\r\n") : first;
            var payload = new byte[4 + first.Length + second.Length];
            BinaryPrimitives.WriteInt32LittleEndian(payload, first.Length);
            first.CopyTo(payload, 4);
            second.CopyTo(payload, 4 + first.Length);
            var record = new byte[9 + identity.Length + payload.Length];
            record[0] = kind;
            BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(1), identity.Length + payload.Length);
            identity.CopyTo(record, 9);
            payload.CopyTo(record, 9 + identity.Length);
            var hash = 2166136261u;
            for (var i = 0; i < record.Length; i++)
            {
                hash = unchecked((hash ^ (i is >= 5 and < 9 ? (byte)0 : record[i])) * 16777619u);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(5), hash);
            output.Write(record);
            position += 9 + length;
        }
        return output.ToArray();
    }

    /// <summary>Stops the server of a <see cref="FlagTestMailboxes"/> at the end of a test.</summary>
    private sealed class FlagTestMailboxesOwner(FlagTestMailboxes value) : IAsyncDisposable
    {
        public FlagTestMailboxes Value => value;

        public ValueTask DisposeAsync() => value.Server.DisposeAsync();
    }
}
