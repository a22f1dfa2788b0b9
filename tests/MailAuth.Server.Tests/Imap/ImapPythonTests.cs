using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MailAuth.Server.Tests.Imap;

/// <summary>Python's imaplib, a real client library, through a whole session and IDLE.</summary>
[TestFixture]
[Category("External")]
public sealed class ImapPythonTests
{
    private const string Address = "julie@family.example";
    private const string Password = "Py-pass 9";
    private RunningServer _server = null!;

    private const string SessionScript = """
        import imaplib, json, ssl, sys
        port, cafile, user, password, body_out = sys.argv[1:6]
        result = {}
        context = ssl.create_default_context(cafile=cafile)
        m = imaplib.IMAP4('127.0.0.1', int(port))
        m.starttls(ssl_context=context)
        result['login'] = m.login(user, password)[0]
        result['list'] = [line.decode() for line in m.list()[1]]
        result['select'] = m.select('INBOX')[1][0].decode()
        typ, data = m.fetch('1', '(BODY.PEEK[])')
        open(body_out, 'wb').write(data[0][1])
        result['flags_after_peek'] = m.fetch('1', '(FLAGS)')[1][0].decode()
        result['store'] = m.store('1', '+FLAGS', '(\\Flagged)')[1][0].decode()
        message = b'From: anna@family.example\r\nSubject: appended by imaplib\r\n\r\nhello\r\n'
        typ, data = m.append('INBOX', '(\\Seen)', imaplib.Time2Internaldate(1700000000), message)
        result['append'] = [typ, data[0].decode()]
        result['exists_after_append'] = [d.decode() for d in m.response('EXISTS')[1]]
        result['search_flagged'] = m.search(None, 'FLAGGED')[1][0].decode()
        result['search_subject'] = m.uid('SEARCH', 'SUBJECT', 'imaplib')[1][0].decode()
        result['search_combined'] = m.search(None, 'OR', 'SEEN', 'FLAGGED', 'SINCE', '1-Jan-2000', 'NOT', 'DELETED')[1][0].decode()
        typ, data = m.fetch('2', '(INTERNALDATE BODY[HEADER.FIELDS (SUBJECT)])')
        result['fetch_header'] = [data[0][0].decode(), data[0][1].decode()]
        typ, data = m.fetch('1', '(BODY[TEXT] FLAGS)')
        result['fetch_seen'] = [data[0][1].decode(), data[1].decode()]
        result['copy'] = m.copy('2', 'Trash')[0]
        result['create'] = m.create('Archive')[0]
        result['move'] = [str(x) for x in m.uid('MOVE', '2', 'Archive')]
        result['store_deleted'] = m.store('1', '+FLAGS', '(\\Deleted)')[0]
        result['expunge'] = [d.decode() if d else None for d in m.expunge()[1]]
        result['status'] = m.status('Archive', '(MESSAGES UIDNEXT UNSEEN)')[1][0].decode()
        result['examine'] = m.select('Trash', readonly=True)[1][0].decode()
        result['close'] = m.close()[0]
        result['logout'] = m.logout()[0]
        print(json.dumps(result))
        """;

    private const string IdleScript = """
        import imaplib, ssl, sys
        port, cafile, user, password = sys.argv[1:5]
        context = ssl.create_default_context(cafile=cafile)
        m = imaplib.IMAP4_SSL('127.0.0.1', int(port), ssl_context=context)
        m.login(user, password)
        m.select('INBOX')
        m.sock.settimeout(20)
        def idle_until_exists(announce):
            tag = m._new_tag().decode()
            m.send(f'{tag} IDLE\r\n'.encode())
            print('continuation', m.readline().decode().strip(), flush=True)
            announce()
            while True:
                line = m.readline().decode().strip()
                if line.endswith('EXISTS'):
                    print('got', line, flush=True)
                    break
            m.send(b'DONE\r\n')
            while True:
                line = m.readline().decode().strip()
                if line.startswith(tag):
                    print('done', line[len(tag) + 1:], flush=True)
                    break
        # 1: a delivery into new/ by the test (as SMTP does), found by polling.
        idle_until_exists(lambda: (print('waiting-for-delivery', flush=True), sys.stdin.readline()))
        # 2: an APPEND from a second connection, announced at once.
        def append_elsewhere():
            other = imaplib.IMAP4_SSL('127.0.0.1', int(port), ssl_context=context)
            other.login(user, password)
            other.append('INBOX', None, None, b'Subject: from another session\r\n\r\nhi\r\n')
            other.logout()
        idle_until_exists(append_elsewhere)
        m.logout()
        """;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Imap__IdlePollIntervalMilliseconds"] = "200" });
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync("idle-pass-1\n", "mailbox", "add", "idle@family.example")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task ImaplibSessionLoginListSelectFetchStoreAppendSearchCopyMoveExpunge()
    {
        var message = Encoding.UTF8.GetBytes("From: Anna <anna@family.example>\r\nTo: julie@family.example\r\nSubject: Déjà vu\r\nDate: Mon, 3 Mar 2025 09:00:00 +0100\r\n\r\nBody with\ttabs and ünïcode\r\n");
        await ExternalClient.DeliverAsync(_server, Address, message);
        var script = ExternalClient.WriteScript(SessionScript);
        var body = Path.GetTempFileName();
        try
        {
            var run = await ExternalClient.RunAsync("python3", script, _server.ImapPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ExternalClient.CertificatePath(_server), Address, Password, body);
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            var result = JsonDocument.Parse(run.Stdout).RootElement;
            string Get(string name) => result.GetProperty(name).ToString();
            Assert.Multiple(() =>
            {
                Assert.That(File.ReadAllBytes(body), Is.EqualTo(message), "BODY.PEEK[] is the delivered file, byte for byte");
                Assert.That(Get("login"), Is.EqualTo("OK"));
                Assert.That(Get("list"), Does.Contain("(\\\\HasNoChildren \\\\Sent) \\\".\\\" Sent"));
                Assert.That(Get("select"), Is.EqualTo("1"));
                Assert.That(Get("flags_after_peek"), Is.EqualTo("1 (FLAGS (\\Recent))"));
                Assert.That(Get("store"), Is.EqualTo("1 (FLAGS (\\Flagged \\Recent))"));
                Assert.That(result.GetProperty("append")[1].GetString(), Does.Match("^\\[APPENDUID \\d+ 2\\] APPEND completed$"));
                Assert.That(Get("exists_after_append"), Is.EqualTo("[\"1\", \"2\"]"), "EXISTS from SELECT, then before APPEND's tagged OK");
                Assert.That(Get("search_flagged"), Is.EqualTo("1"));
                Assert.That(Get("search_subject"), Is.EqualTo("2"));
                Assert.That(Get("search_combined"), Is.EqualTo("1 2"));
                Assert.That(result.GetProperty("fetch_header")[0].GetString(), Does.Match("^2 \\(INTERNALDATE \"14-Nov-2023 22:13:20 \\+0000\" BODY\\[HEADER.FIELDS \\(SUBJECT\\)\\] \\{32\\}$"));
                Assert.That(result.GetProperty("fetch_header")[1].GetString(), Is.EqualTo("Subject: appended by imaplib\r\n\r\n"));
                Assert.That(result.GetProperty("fetch_seen")[0].GetString(), Is.EqualTo("Body with\ttabs and ünïcode\r\n"));
                Assert.That(result.GetProperty("fetch_seen")[1].GetString(), Is.EqualTo(" FLAGS (\\Flagged \\Seen \\Recent))"), "BODY[] sets \\Seen");
                Assert.That(Get("copy"), Is.EqualTo("OK"));
                Assert.That(Get("move"), Does.Contain("OK"));
                // imaplib collects the EXPUNGE of the MOVE (UID 2 was message 2) with EXPUNGE's own.
                Assert.That(Get("expunge"), Is.EqualTo("[\"2\", \"1\"]"));
                Assert.That(Get("status"), Is.EqualTo("Archive (MESSAGES 1 UIDNEXT 2 UNSEEN 0)"));
                Assert.That(Get("examine"), Is.EqualTo("1"));
                Assert.That(Get("close"), Is.EqualTo("OK"));
                Assert.That(Get("logout"), Is.EqualTo("BYE"));
            });
        }
        finally
        {
            File.Delete(script);
            File.Delete(body);
        }
    }

    [Test]
    public async Task ImaplibIdleSeesADeliveryAndAnAppendFromAnotherSession()
    {
        var script = ExternalClient.WriteScript(IdleScript);
        try
        {
            var start = new ProcessStartInfo("python3")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { script, _server.ImapsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), ExternalClient.CertificatePath(_server), "idle@family.example", "idle-pass-1" })
            {
                start.ArgumentList.Add(arg);
            }
            using var python = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var lines = new List<string>();
            async Task<string> Next()
            {
                var line = await python.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new AssertionException("python ended early: " + await python.StandardError.ReadToEndAsync());
                lines.Add(line);
                return line;
            }
            Assert.That(await Next(), Is.EqualTo("continuation + idling"));
            Assert.That(await Next(), Is.EqualTo("waiting-for-delivery"));
            await ExternalClient.DeliverAsync(_server, "idle@family.example", "Subject: delivered\r\n\r\nx\r\n"u8.ToArray());
            await python.StandardInput.WriteLineAsync();
            await python.StandardInput.FlushAsync();
            Assert.That(await Next(), Is.EqualTo("got * 1 EXISTS"));
            Assert.That(await Next(), Is.EqualTo("done OK IDLE terminated"));
            Assert.That(await Next(), Is.EqualTo("continuation + idling"));
            Assert.That(await Next(), Is.EqualTo("got * 2 EXISTS"));
            Assert.That(await Next(), Is.EqualTo("done OK IDLE terminated"));
            await python.WaitForExitAsync(timeout.Token);
            Assert.That(python.ExitCode, Is.Zero, string.Join('\n', lines) + await python.StandardError.ReadToEndAsync());
        }
        finally
        {
            File.Delete(script);
        }
    }
}
