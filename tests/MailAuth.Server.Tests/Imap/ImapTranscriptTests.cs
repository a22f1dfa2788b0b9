using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>Raw transcripts against the real server on loopback (a trusted network by default): every refusal and limit.</summary>
[TestFixture]
public sealed class ImapTranscriptTests
{
    private const string Address = "julie@family.example";
    private const string Password = "correct horse 42";
    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Imap__PreLoginIdleTimeoutSeconds"] = "3",
            ["MailAuth__Imap__MaxLineLength"] = "1024",
            ["MailAuth__Imap__MaxLiteralSize"] = "100000",
            ["MailAuth__Imap__MaxCommandsBeforeLogin"] = "10",
            ["MailAuth__Imap__MaxFailedAuthentications"] = "2",
        });
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync("other-pass-1\n", "mailbox", "add", "off@family.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunAsync("mailbox", "disable", "off@family.example", "--reason", "test")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    /// <summary>A log line holding every part (the console logger writes asynchronously: give it a moment).</summary>
    private async Task<bool> LogLineAsync(params string[] parts)
    {
        for (var i = 0; i < 100; i++)
        {
            if (_server.Log.Split('\n').Any(line => parts.All(p => line.Contains(p, StringComparison.Ordinal))))
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }

    private Task<ImapTestClient> Connect(bool tls = false) => ImapTestClient.ConnectAsync(_server, tls);

    private async Task<ImapTestClient> LoggedIn()
    {
        var client = await Connect();
        Assert.That((await client.CommandAsync("l", $"LOGIN {Address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        return client;
    }

    [Test]
    public async Task GreetingListsCapabilitiesWithStarttlsAndAuthOnATrustedNetwork()
    {
        await using var client = await Connect();
        Assert.That(client.Greeting, Is.EqualTo("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE STARTTLS AUTH=PLAIN AUTH=LOGIN] MailAuth ready"));
        var lines = await client.CommandAsync("a", "CAPABILITY");
        Assert.That(lines, Is.EqualTo(new[] { "* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE STARTTLS AUTH=PLAIN AUTH=LOGIN", "a OK CAPABILITY completed" }));
    }

    [Test]
    public async Task LoginAnswersWithPostLoginCapabilitiesAndLogoutSaysBye()
    {
        await using var client = await Connect();
        var login = await client.CommandAsync("a1", $"LOGIN \"{Address}\" \"{Password}\"");
        Assert.That(login, Is.EqualTo(new[] { "a1 OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE UIDPLUS MOVE NAMESPACE UNSELECT SPECIAL-USE CHILDREN LIST-EXTENDED LIST-STATUS NOTIFY ESEARCH SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES CONTEXT=SEARCH BINARY MULTIAPPEND CATENATE CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE] Logged in" }));
        Assert.That(await client.CommandAsync("a2", "LOGOUT"), Is.EqualTo(new[] { "* BYE MailAuth logging out", "a2 OK LOGOUT completed" }));
        Assert.That(await client.IsClosedAsync(), Is.True);
    }

    [Test]
    public async Task LoginWithASynchronizingAndANonSynchronizingLiteral()
    {
        await using var client = await Connect();
        await client.SendAsync($"a LOGIN {{{Address.Length}}}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync($"{Address} {{{Password.Length}+}}\r\n{Password}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("a OK [CAPABILITY "));
    }

    [Test]
    public async Task WrongPasswordAndDisabledMailboxGetTheSameAnswer()
    {
        await using var client = await Connect();
        Assert.That(await client.CommandAsync("a", $"LOGIN {Address} wrong"), Is.EqualTo(new[] { "a NO [AUTHENTICATIONFAILED] Authentication failed" }));
        await using var other = await Connect();
        Assert.That(await other.CommandAsync("b", "LOGIN off@family.example other-pass-1"), Is.EqualTo(new[] { "b NO [AUTHENTICATIONFAILED] Authentication failed" }));
        Assert.That(await LogLineAsync("auth ", "protocol=imap", "mechanism=LOGIN-command", "address=off@family.example", "remote=127.0.0.1", "tls=no", "result=failed"), Is.True, _server.Log);
        Assert.That(_server.Log, Does.Not.Contain("other-pass-1"));
    }

    [Test]
    public async Task TooManyFailedLoginsEndTheConnectionWithBye()
    {
        await using var client = await Connect();
        Assert.That(await client.CommandAsync("a", $"LOGIN {Address} wrong1"), Is.EqualTo(new[] { "a NO [AUTHENTICATIONFAILED] Authentication failed" }));
        Assert.That(await client.CommandAsync("b", $"LOGIN {Address} wrong2"), Is.EqualTo(new[] { "b NO [AUTHENTICATIONFAILED] Authentication failed" }));
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BYE Too many failed logins"));
        Assert.That(await client.TryReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task AuthenticatePlainWithInitialResponse()
    {
        await using var client = await Connect();
        var response = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{Address}\0{Password}"));
        Assert.That((await client.CommandAsync("a", $"AUTHENTICATE PLAIN {response}"))[^1], Does.StartWith("a OK [CAPABILITY IMAP4rev1"));
    }

    [Test]
    public async Task AuthenticatePlainWithoutInitialResponseGetsAnEmptyChallenge()
    {
        await using var client = await Connect();
        await client.SendAsync("a AUTHENTICATE PLAIN\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("+ "));
        await client.SendAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Address}\0{Address}\0{Password}")) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("a OK [CAPABILITY"));
    }

    [Test]
    public async Task AuthenticateLoginPromptsUsernameAndPassword()
    {
        await using var client = await Connect();
        await client.SendAsync("a AUTHENTICATE LOGIN\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("+ " + Convert.ToBase64String("Username:"u8.ToArray())));
        await client.SendAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Address)) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("+ " + Convert.ToBase64String("Password:"u8.ToArray())));
        await client.SendAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Password)) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("a OK [CAPABILITY"));
    }

    [Test]
    public async Task AuthenticateWithBadBase64IsBadAndTheSessionGoesOn()
    {
        await using var client = await Connect();
        await client.SendAsync("a AUTHENTICATE PLAIN\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("+ "));
        await client.SendAsync("not base64!\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a BAD invalid base64"));
        Assert.That(await client.CommandAsync("b", "AUTHENTICATE PLAIN %%%"), Is.EqualTo(new[] { "b BAD Invalid base64 in the initial response" }));
        Assert.That(await client.CommandAsync("c", "NOOP"), Is.EqualTo(new[] { "c OK NOOP completed" }));
    }

    [Test]
    public async Task CancelledAuthenticateIsBad()
    {
        await using var client = await Connect();
        await client.SendAsync("a AUTHENTICATE LOGIN\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync("*\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a BAD Authentication cancelled"));
        Assert.That(await client.CommandAsync("b", "AUTHENTICATE PLAIN *"), Is.EqualTo(new[] { "b BAD Authentication cancelled" }));
    }

    [Test]
    public async Task UnknownMechanismIsRefused()
    {
        await using var client = await Connect();
        Assert.That(await client.CommandAsync("a", "AUTHENTICATE CRAM-MD5"), Is.EqualTo(new[] { "a NO Unsupported authentication mechanism, use one of PLAIN LOGIN" }));
    }

    [Test]
    public async Task OversizeLineAfterLoginIsBadAndTheNextCommandWorks()
    {
        await using var client = await LoggedIn();
        await client.SendAsync("a NOOP " + new string('x', 41_000) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BAD Command line too long (the limit is 1024 bytes), ignored"));
        Assert.That(await client.CommandAsync("b", "NOOP"), Is.EqualTo(new[] { "b OK NOOP completed" }));
    }

    [Test]
    public async Task OversizeLineBeforeLoginSaysByeAndCloses()
    {
        await using var client = await Connect();
        await client.SendAsync("a NOOP " + new string('x', 41_000) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BYE Command too long before login, closing the connection"));
        Assert.That(await client.TryReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task LiteralsAndLinesBeforeLoginShareOneBudget()
    {
        await using var client = await Connect();
        // Each literal is within MaxLiteralSizeBeforeLogin (4096), but the command as a whole is not:
        // nine 4096-byte literals and their lines fit in 40960 bytes, a tenth does not.
        await client.SendAsync("a LOGIN {4096}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        for (var i = 0; i < 8; i++)
        {
            await client.SendAsync(new string('u', 4096) + " {4096}\r\n");
            Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "), $"literal {i + 2}");
        }
        await client.SendAsync(new string('u', 4096) + " {4096}\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a NO [TOOBIG] Command larger than the limit of 40960 bytes (lines and literals)"));
        Assert.That(await client.CommandAsync("b", "NOOP"), Is.EqualTo(new[] { "b OK NOOP completed" }), "a synchronizing literal is refused unread: the session goes on");
        await client.SendAsync("c LOGIN {4096+}\r\n" + string.Concat(Enumerable.Repeat(new string('u', 4096) + " {4096+}\r\n", 10)) + new string('p', 4096) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BYE [TOOBIG] Literal too large, closing the connection"));
        Assert.That(await client.TryReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task LoginWith1KiBLiteralArgumentsFitsThePreLoginBudget()
    {
        await using var client = await Connect();
        await client.SendAsync($"a LOGIN {{1024+}}\r\n{new string('u', 1024)} {{1024+}}\r\n{new string('p', 1024)}\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed"));
        Assert.That((await client.CommandAsync("b", $"LOGIN {Address} \"{Password}\""))[^1], Does.StartWith("b OK"));
    }

    [Test]
    public async Task AuthenticateResponseOverThePreLoginLimitSaysBye()
    {
        await using var client = await Connect();
        await client.SendAsync("a AUTHENTICATE PLAIN\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("+ "));
        await client.SendAsync(new string('A', 9000) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BYE Command too long before login, closing the connection"));
        Assert.That(await client.TryReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task OversizeLineAfterALiteralDropsTheCommandWithATaggedBad()
    {
        await using var client = await LoggedIn();
        await client.SendAsync("a STATUS {5}\r\n");
        Assert.That(await client.ReadLineAsync(), Does.StartWith("+ "));
        await client.SendAsync("INBOX " + new string('x', 5000) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BAD Command line too long (the limit is 1024 bytes), ignored"));
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a BAD Command line too long, command ignored"));
        Assert.That(await client.CommandAsync("b", "NOOP"), Is.EqualTo(new[] { "b OK NOOP completed" }));
    }

    [Test]
    public async Task OversizeLiteralIsRefusedWithoutAContinuation()
    {
        await using var client = await Connect();
        await client.SendAsync("a LOGIN {5000}\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a NO [TOOBIG] Literal of 5000 bytes is larger than the limit of 4096 bytes"));
        Assert.That(await client.CommandAsync("b", "NOOP"), Is.EqualTo(new[] { "b OK NOOP completed" }));
    }

    [Test]
    public async Task OversizeLiteralAfterLoginIsRefusedWithoutAContinuation()
    {
        await using var client = await LoggedIn();
        await client.SendAsync("a APPEND INBOX {100001}\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a NO [TOOBIG] Literal of 100001 bytes is larger than the limit of 100000 bytes"));
        Assert.That(await client.CommandAsync("b", "NOOP"), Is.EqualTo(new[] { "b OK NOOP completed" }));
    }

    [Test]
    public async Task OversizeNonSynchronizingLiteralClosesTheConnection()
    {
        await using var client = await Connect();
        await client.SendAsync("a LOGIN {5000+}\r\n" + new string('x', 5000));
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BYE [TOOBIG] Literal too large, closing the connection"));
        Assert.That(await client.TryReadLineAsync(), Is.Null);
    }

    [TestCase("{-1}")]
    [TestCase("{abc}")]
    [TestCase("{}")]
    [TestCase("{99999999999999999999999999}")]
    [TestCase("{1-}")]
    public async Task InvalidLiteralSizeIsBad(string literal)
    {
        await using var client = await Connect();
        await client.SendAsync($"a LOGIN {literal}\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a BAD Invalid literal size: expected {n} or {n+} with n a number"));
        Assert.That(await client.CommandAsync("b", "NOOP"), Is.EqualTo(new[] { "b OK NOOP completed" }));
    }

    [TestCase("SELECT INBOX", "a BAD SELECT is not allowed before login")]
    [TestCase("LIST \"\" *", "a BAD LIST is not allowed before login")]
    [TestCase("UID FETCH 1 FLAGS", "a BAD UID FETCH is not allowed before login")]
    [TestCase("FROB", "a BAD Unknown command FROB")]
    [TestCase("UID FROB 1", "a BAD Unknown command UID FROB")]
    public async Task WrongStateAndUnknownCommandsBeforeLoginAreBad(string command, string answer)
    {
        await using var client = await Connect();
        Assert.That(await client.CommandAsync("a", command), Is.EqualTo(new[] { answer }));
    }

    [TestCase("FETCH 1 FLAGS", "a BAD FETCH is not allowed without a selected folder")]
    [TestCase("STORE 1 +FLAGS \\Seen", "a BAD STORE is not allowed without a selected folder")]
    [TestCase("EXPUNGE", "a BAD EXPUNGE is not allowed without a selected folder")]
    [TestCase("LOGIN a b", "a BAD LOGIN is not allowed without a selected folder")]
    [TestCase("STARTTLS", "a BAD STARTTLS is not allowed without a selected folder")]
    public async Task WrongStateAfterLoginIsBad(string command, string answer)
    {
        await using var client = await LoggedIn();
        Assert.That(await client.CommandAsync("a", command), Is.EqualTo(new[] { answer }));
    }

    [TestCase("a", "* BAD Command line must start with a tag and a command name")]
    [TestCase("a SELECT", "a BAD expected a space")]
    [TestCase("a FETCH 0 FLAGS", "a BAD invalid sequence set number '0'")]
    [TestCase("a FETCH 1 (FLAGS", "a BAD expected ')'")]
    [TestCase("a SEARCH FROBNICATE", "a BAD unknown search key 'FROBNICATE'")]
    public async Task SyntaxErrorsAreBad(string line, string answer)
    {
        await using var client = await LoggedIn();
        await client.CommandAsync("s", "SELECT INBOX");
        await client.SendAsync(line + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo(answer));
    }

    [Test]
    public async Task StarttlsWithPipelinedPlaintextClosesTheConnection()
    {
        await using var client = await Connect();
        await client.SendAsync($"a STARTTLS\r\nb LOGIN {Address} \"{Password}\"\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("a OK Begin TLS negotiation now"));
        Assert.That(await client.TryReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task StarttlsThenLoginAndNoSecondStarttls()
    {
        await using var client = await Connect();
        Assert.That(await client.CommandAsync("a", "STARTTLS"), Is.EqualTo(new[] { "a OK Begin TLS negotiation now" }));
        await client.UpgradeAsync();
        Assert.That(await client.CommandAsync("b", "CAPABILITY"), Is.EqualTo(new[] { "* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN", "b OK CAPABILITY completed" }));
        Assert.That(await client.CommandAsync("c", "STARTTLS"), Is.EqualTo(new[] { "c BAD TLS is already active" }));
        Assert.That((await client.CommandAsync("d", $"LOGIN {Address} \"{Password}\""))[^1], Does.StartWith("d OK"));
        Assert.That(await LogLineAsync("auth ", "protocol=imap", $"address={Address}", "tls=yes", "result=ok"), Is.True, _server.Log);
    }

    [Test]
    public async Task ImplicitTlsPortGreetsWithoutStarttls()
    {
        await using var client = await Connect(tls: true);
        Assert.That(client.Greeting, Is.EqualTo("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN] MailAuth ready"));
        Assert.That((await client.CommandAsync("a", $"LOGIN {Address} \"{Password}\""))[^1], Does.StartWith("a OK"));
    }

    [Test]
    public async Task GarbageInsteadOfATlsHandshakeIsDisconnected()
    {
        using var tcp = await _server.ConnectAsync(_server.ImapsPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync("a LOGIN x y\r\n"u8.ToArray());
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        int read;
        try
        {
            read = await stream.ReadAsync(buffer, timeout.Token);
        }
        catch (IOException)
        {
            read = 0;
        }
        Assert.That(read, Is.Zero);
    }

    [Test]
    public async Task IdleTimeoutBeforeLoginSaysBye()
    {
        await using var client = await Connect();
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BYE Idle timeout, closing the connection"));
        Assert.That(await client.TryReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task TooManyCommandsBeforeLoginSayBye()
    {
        await using var client = await Connect();
        for (var i = 0; i < 10; i++)
        {
            Assert.That(await client.CommandAsync("n" + i, "NOOP"), Is.EqualTo(new[] { $"n{i} OK NOOP completed" }));
        }
        await client.SendAsync("x NOOP\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("* BYE Too many commands before login"));
        Assert.That(await client.TryReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task IdNamespaceEnableAndListDelimiter()
    {
        await using var client = await LoggedIn();
        Assert.That(await client.CommandAsync("a", "ID (\"name\" \"test\")"), Is.EqualTo(new[] { "* ID (\"name\" \"MailAuth\")", "a OK ID completed" }));
        Assert.That(await client.CommandAsync("b", "NAMESPACE"), Is.EqualTo(new[] { "* NAMESPACE ((\"\" \".\")) NIL NIL", "b OK NAMESPACE completed" }));
        Assert.That(await client.CommandAsync("c", "ENABLE CONDSTORE"), Is.EqualTo(new[] { "* ENABLED CONDSTORE", "c OK ENABLE completed" }));
        Assert.That(await client.CommandAsync("d", "LIST \"\" \"\""), Is.EqualTo(new[] { "* LIST (\\Noselect) \".\" \"\"", "d OK LIST completed" }));
    }
}
