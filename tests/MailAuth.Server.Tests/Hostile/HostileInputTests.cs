using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MailAuth.Server.Tests.Imap;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>
/// Hostile input against the real server, IMAP and SMTP alike: every line gets a clear protocol
/// error or a clean disconnect, the connection stays usable where the protocol allows, memory
/// stays bounded and a legitimate login in the middle of it all succeeds.
/// </summary>
[TestFixture]
public sealed partial class HostileInputTests
{
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(6);
    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Imap__PreLoginIdleTimeoutSeconds"] = "3",
            ["MailAuth__Smtp__PreLoginIdleTimeoutSeconds"] = "3",
            ["MailAuth__Imap__TlsHandshakeTimeoutSeconds"] = "2",
            ["MailAuth__Smtp__TlsHandshakeTimeoutSeconds"] = "2",
            ["MailAuth__Imap__MaxConnectionsPerAddress"] = "200",
            ["MailAuth__Smtp__MaxConnectionsPerAddress"] = "200",
            // The storm below fails logins on purpose; the throttle is tested elsewhere.
            ["MailAuth__Authentication__TrustedNetworks__0"] = "127.0.0.1/32",
        });
        await _server.Cli.RunAsync("domain", "add", "family.example");
        await _server.Cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", "julie@family.example");
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [TestCase("imap")]
    [TestCase("smtp")]
    public async Task OverlongLineAfterLoginIsRefusedAndTheSessionGoesOn(string protocol)
    {
        await using var client = await LoggedInAsync(protocol);
        await client.SendAsync(new string('A', 200_000) + "\r\n");
        AssertError(protocol, await client.ReadLineAsync());
        await AssertStillServesAsync(protocol, client);
    }

    [TestCase("imap", "* BYE Command too long before login, closing the connection")]
    [TestCase("smtp", "421 4.7.0 Line too long before authentication, closing connection")]
    public async Task OverlongLineBeforeLoginEndsTheConnection(string protocol, string answer)
    {
        await using var client = await GreetedAsync(protocol);
        var sending = SendIgnoringResetAsync(client, new string('A', 200_000) + "\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo(answer));
        Assert.That(await client.ClosedWithinAsync(Slack), Is.True);
        await sending;
    }

    [TestCase("imap", "* BYE Too many commands before login")]
    [TestCase("smtp", "421 4.7.0 Too many commands before authentication, closing connection")]
    public async Task AFloodOfEmptyLinesBeforeLoginEndsTheConnection(string protocol, string answer)
    {
        await using var client = await GreetedAsync(protocol);
        await SendIgnoringResetAsync(client, string.Concat(Enumerable.Repeat("\r\n", 10_000)));
        var last = "";
        while (await client.ReadLineAsync() is { } line)
        {
            last = line;
        }
        Assert.That(last, Is.EqualTo(answer), "empty lines count as commands before login");
    }

    [Test]
    public async Task LoginWithFullyEscapedKibibyteArgumentsFitsThePreLoginBudget()
    {
        await using var client = await GreetedAsync("imap");
        // A 1024-byte password of quotes, every one escaped: 2 KiB on the wire, and a 1 KiB user name.
        var quoted = "\"" + string.Concat(Enumerable.Repeat("\\\"", 1024)) + "\"";
        await client.SendAsync($"a1 LOGIN \"{new string('u', 1024)}\" {quoted}\r\n");
        Assert.That(await ReadTaggedAsync(client, "a1"), Is.EqualTo("a1 NO [AUTHENTICATIONFAILED] Authentication failed"));
        await AssertStillServesAsync("imap", client);
    }

    /// <summary>Finding 9: each of these threw, dropped the connection and logged a stack trace.</summary>
    [TestCase("CREATE \"inbox.sub\"", "x NO [CANNOT] sub-folders of INBOX are spelled INBOX.name, in capitals")]
    [TestCase("RENAME \"Sent\" \"Inbox.Sent\"", "x NO [CANNOT] sub-folders of INBOX are spelled INBOX.name, in capitals")]
    [TestCase("LIST \"\" \"{10 KB of *a}\"", "x BAD reference and mailbox pattern longer than 1024 characters together")]
    public async Task FolderCommandsThatUsedToDropTheSessionAreAnswered(string command, string answer)
    {
        await using var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", "LOGIN julie@family.example 123-Abc"))[^1], Does.StartWith("l OK"));
        command = command.Replace("{10 KB of *a}", string.Concat(Enumerable.Repeat("*a", 5_000)), StringComparison.Ordinal);
        Assert.That(await client.CommandAsync("x", command), Is.EqualTo(new[] { answer }));
        Assert.That(await client.CommandAsync("n", "NOOP"), Is.EqualTo(new[] { "n OK NOOP completed" }), "the session goes on");
        Assert.That(await client.CommandAsync("s", "LIST \"\" Sent"), Is.EqualTo(new[] { @"* LIST (\HasNoChildren \Sent) ""."" Sent", "s OK LIST completed" }));
    }

    [Test]
    public async Task ALongestAllowedListPatternIsMatchedQuickly()
    {
        await using var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", "LOGIN julie@family.example 123-Abc"))[^1], Does.StartWith("l OK"));
        var pattern = string.Concat(Enumerable.Repeat("*a", 511)) + "*b";
        Assert.That(await client.CommandAsync("x", $"LIST \"\" \"{pattern}\""), Is.EqualTo(new[] { "x OK LIST completed" }));
        Assert.That(await client.CommandAsync("y", $"LIST \"\" \"{pattern}*\""), Is.EqualTo(new[] { "y BAD reference and mailbox pattern longer than 1024 characters together" }));
    }

    /// <summary>Finding 8: 400 TEXT keys on a 5 MB message decoded the message 400 times (20 s); now once.</summary>
    [Test]
    public async Task FourHundredTextKeysOnAFiveMegabyteMessageAreAnsweredCorrectly()
    {
        await using var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", "LOGIN julie@family.example 123-Abc"))[^1], Does.StartWith("l OK"));
        await LargeSearch.CreateFolderAsync(client, _server, "julie", "LargeSearch", count: 1);
        Assert.That((await client.CommandAsync("s", "SELECT LargeSearch"))[^1], Does.StartWith("s OK"));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(await client.CommandAsync("a", "SEARCH " + LargeSearch.Keys()), Is.EqualTo(new[] { "* SEARCH 1", "a OK SEARCH completed" }));
        TestContext.Out.WriteLine($"{LargeSearch.Words} TEXT keys on a 5 MiB message: {watch.ElapsedMilliseconds} ms");
        Assert.That(await client.CommandAsync("b", "UID SEARCH " + LargeSearch.Keys(withAMiss: true)), Is.EqualTo(new[] { "* SEARCH", "b OK UID SEARCH completed" }));
        Assert.That(await client.CommandAsync("c", "SEARCH BODY word0400 NOT TEXT subject"), Is.EqualTo(new[] { "* SEARCH", "c OK SEARCH completed" }));
        Assert.That(await client.CommandAsync("d", "SEARCH BODY word0400 NOT BODY subject SUBJECT LARGE"), Is.EqualTo(new[] { "* SEARCH 1", "d OK SEARCH completed" }));
    }

    [Test]
    public async Task MoreSearchKeysThanTheLimitAreRefusedBeforeAnyWork()
    {
        await using var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", "LOGIN julie@family.example 123-Abc"))[^1], Does.StartWith("l OK"));
        Assert.That((await client.CommandAsync("s", "SELECT INBOX"))[^1], Does.StartWith("s OK"));
        Assert.That(await client.CommandAsync("a", "SEARCH " + LargeSearch.Keys(words: 501)), Is.EqualTo(new[] { "a NO [LIMIT] More than 500 search keys in one command" }));
        Assert.That(await client.CommandAsync("b", "SEARCH " + string.Concat(Enumerable.Repeat("NOT ", 61)) + "ALL"), Is.EqualTo(new[] { "* SEARCH", "b OK SEARCH completed" }));
    }

    [TestCase("imap", "a1 LOGIN ju\0lie 123-Abc\r\n")]
    [TestCase("imap", "a1 NO\0OP\r\n")]
    [TestCase("smtp", "EHLO bad\0name\r\n")]
    [TestCase("smtp", "NO\0OP\r\n")]
    public async Task NulBytesAreRefused(string protocol, string line)
    {
        await using var client = await GreetedAsync(protocol);
        await client.SendAsync(line);
        AssertErrorOrClose(protocol, await client.ReadLineAsync());
    }

    [TestCase("imap")]
    [TestCase("smtp")]
    public async Task InvalidUtf8IsRefused(string protocol)
    {
        await using var client = await GreetedAsync(protocol);
        var junk = protocol == "imap" ? "a1 LOGIN \"\xff\xfe\" \"x\"\r\n"u8.ToArray() : "AUTH PLAIN \xff\xfe\r\n"u8.ToArray();
        junk = [.. junk.Select(b => b == 0xC3 ? (byte)0xFF : b)];
        await client.SendAsync(junk);
        AssertErrorOrClose(protocol, await client.ReadLineAsync());
        await AssertStillServesAsync(protocol, client);
    }

    [TestCase("a1 LOGIN {99999999999999}")]
    [TestCase("a1 LOGIN {9223372036854775808}")]
    [TestCase("a1 LOGIN {-1}")]
    [TestCase("a1 LOGIN {1x}")]
    [TestCase("a1 APPEND INBOX {999999999999+}")]
    public async Task HugeAndNegativeLiteralsAreRefusedBeforeAnyByteIsRead(string line)
    {
        await using var client = await GreetedAsync("imap");
        await client.SendAsync(line + "\r\n");
        var answer = await client.ReadLineAsync();
        Assert.That(answer, Does.Not.StartWith("+"), "never invite the client to send it");
        AssertErrorOrClose("imap", answer);
    }

    [TestCase("imap", "a1 AUTHENTICATE PLAIN !!!notbase64\r\n")]
    [TestCase("imap", "a1 AUTHENTICATE PLAIN AGp1bGll AA==\r\n")]
    [TestCase("smtp", "AUTH PLAIN !!!notbase64\r\n")]
    [TestCase("smtp", "AUTH LOGIN =====\r\n")]
    public async Task InvalidBase64IsRefused(string protocol, string line)
    {
        await using var client = await GreetedAsync(protocol);
        await client.SendAsync(line);
        AssertError(protocol, await client.ReadLineAsync());
    }

    [TestCase("imap", "a1 SELECT INBOX\r\n")]
    [TestCase("imap", "a1 FETCH 1 BODY[]\r\n")]
    [TestCase("imap", "a1 IDLE\r\n")]
    [TestCase("smtp", "DATA\r\n")]
    [TestCase("smtp", "RCPT TO:<julie@family.example>\r\n")]
    [TestCase("smtp", "MAIL FROM:<julie@family.example>\r\n")]
    public async Task CommandsInTheWrongStateAreRefused(string protocol, string line)
    {
        await using var client = await GreetedAsync(protocol);
        await client.SendAsync(line);
        AssertError(protocol, await client.ReadLineAsync());
        await AssertStillServesAsync(protocol, client);
    }

    [TestCase("imap")]
    [TestCase("smtp")]
    public async Task PipelinedJunkGetsAnswersOrADisconnectNeverAHang(string protocol)
    {
        await using var client = await GreetedAsync(protocol);
        var junk = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            junk.Append(protocol == "imap" ? $"t{i} {Convert.ToHexString(RandomNumberGenerator.GetBytes(8))} x\r\n" : $"{Convert.ToHexString(RandomNumberGenerator.GetBytes(8))}\r\n");
        }
        await client.SendAsync(junk.ToString());
        var answers = 0;
        while (await client.ReadLineAsync(TimeSpan.FromSeconds(10)) is { } line)
        {
            AssertErrorOrClose(protocol, line);
            answers++;
            if (answers == 200)
            {
                break;
            }
        }
        // Either every junk line was answered, or the server cut the session at its command limit.
        Assert.That(answers, Is.GreaterThan(0));
    }

    [TestCase("imap")]
    [TestCase("smtp")]
    public async Task SlowlorisIsCutAtThePreLoginIdleTimeout(string protocol)
    {
        await using var client = await GreetedAsync(protocol);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var trickle = client.TrickleAsync(protocol == "imap" ? "a1 LOGIN julie@family.example 123-Abc\r\n" : "EHLO slow.example\r\n",
            TimeSpan.FromMilliseconds(700), stop.Token);
        Assert.That(await client.ClosedWithinAsync(TimeSpan.FromSeconds(3) + Slack), Is.True,
            "a line arriving one byte at a time never resets the deadline");
        await stop.CancelAsync();
        try
        {
            await trickle;
        }
        catch (OperationCanceledException)
        {
            // Stopped trickling.
        }
    }

    [TestCase("imaps")]
    [TestCase("submissions")]
    public async Task GarbageInPlaceOfATlsHandshakeIsDisconnected(string listener)
    {
        await using var client = await LineConnection.OpenAsync(_server.Ports[listener]);
        await client.SendAsync(RandomNumberGenerator.GetBytes(4096));
        Assert.That(await client.ClosedWithinAsync(Slack), Is.True);
    }

    [TestCase("imaps")]
    [TestCase("submissions")]
    [TestCase("imap")]
    [TestCase("submission")]
    public async Task HalfOpenConnectionsAreClosed(string listener)
    {
        await using var client = await LineConnection.OpenAsync(_server.Ports[listener]);
        // Connect, read whatever comes (a greeting on the plain ports) and never say anything.
        Assert.That(await client.ClosedWithinAsync(TimeSpan.FromSeconds(3) + Slack), Is.True);
    }

    [Test]
    public async Task LegitimateLoginsSucceedDuringAStormAndMemoryStaysBounded()
    {
        var before = _server.ResidentMemoryMiB();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(12));
        var storm = Enumerable.Range(0, 24).Select(i => StormAsync(i, stop.Token)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(2));

        for (var i = 0; i < 3; i++)
        {
            await using var imap = await LineConnection.OpenAsync(_server.ImapsPort, tls: true);
            Assert.That(await imap.ReadLineAsync(), Does.StartWith("* OK"));
            await imap.SendAsync("a1 LOGIN julie@family.example 123-Abc\r\n");
            Assert.That(await ReadTaggedAsync(imap, "a1"), Does.StartWith("a1 OK"));

            await using var smtp = await LineConnection.OpenAsync(_server.SubmissionsPort, tls: true);
            Assert.That(await smtp.ReadLineAsync(), Does.StartWith("220"));
            await smtp.SendAsync("EHLO legit.example\r\n");
            while ((await smtp.ReadLineAsync())!.StartsWith("250-", StringComparison.Ordinal))
            {
            }
            await smtp.SendAsync($"AUTH PLAIN {Convert.ToBase64String("\0julie@family.example\0123-Abc"u8)}\r\n");
            Assert.That(await smtp.ReadLineAsync(), Does.StartWith("235"));
        }

        await Task.WhenAll(storm);
        var after = _server.ResidentMemoryMiB();
        TestContext.Out.WriteLine($"server memory: {before:0} MiB before the storm, {after:0} MiB after");
        Assert.That(after - before, Is.LessThan(200), "memory stays bounded under hostile input");
    }

    /// <summary>One hostile client, repeating until stopped: a mix of everything above.</summary>
    private async Task StormAsync(int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var protocol = random.Next(2) == 0 ? "imap" : "smtp";
                await using var client = await LineConnection.OpenAsync(_server.Ports[protocol == "imap" ? "imap" : "submission"]);
                switch (random.Next(4))
                {
                    case 0:
                        await client.SendAsync(new string('X', 300_000) + "\r\n");
                        break;
                    case 1:
                        await client.SendAsync(RandomNumberGenerator.GetBytes(20_000));
                        break;
                    case 2:
                        await client.SendAsync(protocol == "imap" ? "a1 LOGIN {4294967296}\r\n" : "AUTH PLAIN ****\r\n");
                        break;
                    default:
                        await client.SendAsync(protocol == "imap" ? "a1 LOGIN julie@family.example wrong\r\n" : "AUTH PLAIN AGp1bGllQGZhbWlseS5leGFtcGxlAHdyb25n\r\n");
                        break;
                }
                await client.ReadLineAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                // The server may hang up on a hostile client at any point; that is the point.
            }
        }
    }

    private async Task<LineConnection> LoggedInAsync(string protocol)
    {
        var client = await GreetedAsync(protocol);
        if (protocol == "imap")
        {
            await client.SendAsync("l1 LOGIN julie@family.example 123-Abc\r\n");
            Assert.That(await ReadTaggedAsync(client, "l1"), Does.StartWith("l1 OK"));
        }
        else
        {
            await client.SendAsync($"AUTH PLAIN {Convert.ToBase64String("\0julie@family.example\0123-Abc"u8)}\r\n");
            Assert.That(await client.ReadLineAsync(), Does.StartWith("235"));
        }
        return client;
    }

    /// <summary>Sends while the server may hang up halfway (it is meant to): the reset is not a failure.</summary>
    private static async Task SendIgnoringResetAsync(LineConnection client, string text)
    {
        try
        {
            await client.SendAsync(text);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // Closed by the server before it read everything.
        }
    }

    private async Task<LineConnection> GreetedAsync(string protocol)
    {
        var client = await LineConnection.OpenAsync(protocol == "imap" ? _server.ImapPort : _server.SubmissionPort);
        var greeting = await client.ReadLineAsync();
        Assert.That(greeting, Does.StartWith(protocol == "imap" ? "* OK" : "220"));
        if (protocol == "smtp")
        {
            await client.SendAsync("EHLO hostile.example\r\n");
            while ((await client.ReadLineAsync())!.StartsWith("250-", StringComparison.Ordinal))
            {
            }
        }
        return client;
    }

    private static async Task AssertStillServesAsync(string protocol, LineConnection client)
    {
        await client.SendAsync(protocol == "imap" ? "n1 NOOP\r\n" : "NOOP\r\n");
        var answer = protocol == "imap" ? await ReadTaggedAsync(client, "n1") : await client.ReadLineAsync();
        Assert.That(answer, Does.StartWith(protocol == "imap" ? "n1 OK" : "250"), "the session goes on after a refusal");
    }

    private static async Task<string?> ReadTaggedAsync(LineConnection client, string tag)
    {
        while (await client.ReadLineAsync() is { } line)
        {
            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                return line;
            }
        }
        return null;
    }

    private static void AssertError(string protocol, string? line)
    {
        Assert.That(line, Is.Not.Null, "an answer, not a silent close");
        Assert.That(line!, Does.Match(protocol == "imap" ? ImapError().ToString() : SmtpError().ToString()));
    }

    private static void AssertErrorOrClose(string protocol, string? line)
    {
        if (line is not null)
        {
            Assert.That(line, Does.Match(protocol == "imap" ? ImapError().ToString() : SmtpError().ToString()));
        }
    }

    [GeneratedRegex(@"^(\S+ (BAD|NO)|\* (BAD|BYE|NO)) ")]
    private static partial Regex ImapError();

    [GeneratedRegex(@"^[45][0-9][0-9][ -]")]
    private static partial Regex SmtpError();
}
