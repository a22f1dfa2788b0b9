using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MailAuth.Server.Tests.Imap;
using MailKit;
using static MailAuth.Server.Tests.Lmtp.LmtpServer;

namespace MailAuth.Server.Tests.Lmtp;

/// <summary>
/// Debian's real Postfix as the MX in front of MailAuth, in a private instance (its own
/// configuration directory, queue, loopback port and log): <c>virtual_mailbox_domains</c> and
/// <c>virtual_mailbox_maps</c> are MailAuth's socketmap, <c>virtual_transport</c> is MailAuth's
/// LMTP. The main.cf lines are README's "Mail from the internet".
/// </summary>
[TestFixture]
[Category("External")]
[NonParallelizable]
public sealed class PostfixLmtpTests
{
    /// <summary>Python's smtplib sends the message in file argv[4] from argv[2] to argv[3]; prints the refused recipient's reply or "sent".</summary>
    private const string SmtpClient = """
        import smtplib, sys
        port, sender, recipient, message = sys.argv[1:]
        client = smtplib.SMTP("127.0.0.1", int(port), timeout=20)
        try:
            client.sendmail(sender, [recipient], open(message, "rb").read())
            print("sent")
        except smtplib.SMTPRecipientsRefused as e:
            for code, text in e.recipients.values():
                print(code, text.decode())
        client.quit()
        """;

    /// <summary>
    /// Python's smtplib logs in as argv[2]/argv[3] and sends a short message from argv[4] to argv[5];
    /// prints "sent" or the refusal (Postfix delays a sender refusal to RCPT, smtpd_delay_reject).
    /// </summary>
    private const string SubmissionClient = """
        import smtplib, sys
        port, user, password, sender, recipient = sys.argv[1:]
        client = smtplib.SMTP("127.0.0.1", int(port), timeout=20)
        client.login(user, password)
        try:
            client.sendmail(sender, [recipient], b"Subject: submitted by " + sender.encode() + b"\r\n\r\nx\r\n")
            print("sent")
        except smtplib.SMTPRecipientsRefused as e:
            for code, text in e.recipients.values():
                print(code, text.decode())
        client.quit()
        """;

    private LmtpServer _lmtp = null!;
    private string _work = null!;
    private string _config = null!;
    private string _maillog = null!;
    private int _smtpPort;
    private int _submissionPort;

    [OneTimeSetUp]
    public async Task StartPostfix()
    {
        Assert.That(File.Exists("/usr/sbin/postfix"), Is.True, "Postfix is not installed; ./test.sh installs it");
        Assert.That(Environment.UserName, Is.EqualTo("root"), "a private Postfix instance is started as root (postfix -c DIR start)");
        var saslPort = RunningServer.FreePort();
        _lmtp = await LmtpServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__SaslService__TcpPort"] = saslPort.ToString(CultureInfo.InvariantCulture),
            // The submission test logs in over loopback without TLS.
            ["MailAuth__SaslService__AllowPlaintextWithoutTls"] = "true",
        });
        _work = Path.Combine(_lmtp.Server.Cli.WorkingDirectory, "postfix");
        _config = Path.Combine(_work, "conf");
        var queue = Path.Combine(_work, "queue");
        var data = Path.Combine(_work, "data");
        _maillog = Path.Combine(_work, "maillog");
        Directory.CreateDirectory(_config);
        Directory.CreateDirectory(queue);
        Directory.CreateDirectory(data);
        await ExternalClient.RunAsync("chown", "postfix", data); // Postfix's data_directory belongs to mail_owner.
        await File.WriteAllTextAsync(Path.Combine(_work, "client.py"), SmtpClient);
        await File.WriteAllTextAsync(Path.Combine(_work, "submit.py"), SubmissionClient);
        _smtpPort = RunningServer.FreePort();
        _submissionPort = RunningServer.FreePort();
        var socketmap = $"socketmap:inet:127.0.0.1:{_lmtp.SocketmapPort}";
        var heldTransport = $"inline:{{ {Anna}=held:inet:127.0.0.1:{_lmtp.LmtpPort} }}";
        await File.WriteAllTextAsync(Path.Combine(_config, "main.cf"), $"""
            compatibility_level = 3.6
            queue_directory = {queue}
            data_directory = {data}
            maillog_file = {_maillog}
            maillog_file_prefixes = {Path.GetDirectoryName(_work)}
            myhostname = mx.family.example
            mydestination =
            alias_maps =
            alias_database =
            local_recipient_maps =
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 192.0.2.1/32
            smtpd_error_sleep_time = 0
            virtual_mailbox_domains = {socketmap}:domains
            virtual_mailbox_maps = {socketmap}:mailboxes
            virtual_transport = lmtp:inet:127.0.0.1:{_lmtp.LmtpPort}
            # Anna's mail waits in the queue until it is flushed (the restart test).
            transport_maps = {heldTransport}
            defer_transports = held
            smtpd_sasl_type = dovecot
            smtpd_sasl_path = inet:127.0.0.1:{saslPort}
            smtpd_sender_login_maps = {socketmap}:senders

            """);
        // Debian's own master.cf with the port-25 listener moved to a free loopback port, and no
        // chroot: a private instance has no copy of /etc in its queue directory.
        var services = (await File.ReadAllLinesAsync("/etc/postfix/master.cf"))
            .Where(line => !line.StartsWith("smtp      inet", StringComparison.Ordinal))
            .Select(Unchrooted)
            .Append($"127.0.0.1:{_smtpPort} inet n - n - - smtpd")
            .Append("held unix - - n - - lmtp")
            .Append($"127.0.0.1:{_submissionPort} inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_sender_restrictions=reject_sender_login_mismatch");
        await File.WriteAllLinesAsync(Path.Combine(_config, "master.cf"), services);

        var start = await ExternalClient.RunAsync("/usr/sbin/postfix", "-c", _config, "start");
        Assert.That(start.ExitCode, Is.Zero, $"postfix start: {start}\n{MailLog()}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, _smtpPort);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    [OneTimeTearDown]
    public async Task StopPostfix()
    {
        if (_config is not null)
        {
            await ExternalClient.RunAsync("/usr/sbin/postfix", "-c", _config, "stop");
        }
        await _lmtp.DisposeAsync();
    }

    /// <summary>A master.cf service line with its chroot column set to n.</summary>
    private static string Unchrooted(string line)
    {
        if (line.Length == 0 || line[0] is '#' or ' ' or '\t')
        {
            return line;
        }
        var fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 8)
        {
            return line;
        }
        fields[4] = "n";
        return string.Join(' ', fields);
    }

    private string MailLog() => File.Exists(_maillog) ? File.ReadAllText(_maillog) : "(no maillog)";

    /// <summary>Waits for Postfix's log (written by postlogd, a little after the fact) to match <paramref name="pattern"/>.</summary>
    private async Task<bool> MailLogMatchesAsync(string pattern)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!System.Text.RegularExpressions.Regex.IsMatch(MailLog(), pattern))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(100);
        }
        return true;
    }

    private async Task<string> SendAsync(string sender, string recipient, string message)
    {
        var file = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllTextAsync(file, message);
        var result = await ExternalClient.RunAsync("python3", Path.Combine(_work, "client.py"),
            _smtpPort.ToString(CultureInfo.InvariantCulture), sender, recipient, file);
        Assert.That(result.ExitCode, Is.Zero, $"{result}\n{MailLog()}");
        return result.Stdout.Trim();
    }

    private async Task<string> WaitForMessageAsync(string address, string subject)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_lmtp.Inbox(address).FirstOrDefault(m => m.Contains(subject, StringComparison.Ordinal)) is { } message)
            {
                return message;
            }
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"no '{subject}' delivered to {address}\n{MailLog()}\n{_lmtp.Server.Log}");
            await Task.Delay(100);
        }
    }

    [Test]
    public async Task AMessageForAHostedMailboxArrivesThroughLmtpAndReadsBackOverImapByteIdentical()
    {
        var original = "From: Chris <chris@sender.example>\r\nTo: Julie <julie@family.example>\r\nSubject: through postfix\r\n"
            + "Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <lmtp-1@sender.example>\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nBonjour, \u00e7a va ?\r\n.leading dot\r\n";

        Assert.That(await SendAsync("chris@sender.example", "Julie@Family.Example", original), Is.EqualTo("sent"));

        var stored = await WaitForMessageAsync(Julie, "Subject: through postfix");
        Assert.That(stored, Does.StartWith($"Return-Path: <chris@sender.example>\r\nDelivered-To: {Julie}\r\nReceived: from mx.family.example ([127.0.0.1])\r\n"));
        Assert.That(stored, Does.Contain("(Postfix) with ESMTP id"));
        Assert.That(stored, Does.EndWith(original));
        Assert.That(await MailLogMatchesAsync($"to=<Julie@Family\\.Example>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:{_lmtp.LmtpPort},.* status=sent \\(250 2\\.0\\.0 <julie@family\\.example> [0-9A-F]+ Saved\\)"), Is.True, MailLog());

        using var imap = await MailKitClients.ImapAsync(_lmtp.Server, Julie, Password);
        var inbox = imap.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);
        var uid = (await inbox.SearchAsync(MailKit.Search.SearchQuery.SubjectContains("through postfix"))).Single();
        await using var body = await inbox.GetStreamAsync(uid, "");
        using var read = new MemoryStream();
        await body.CopyToAsync(read);
        Assert.That(Encoding.UTF8.GetString(read.ToArray()), Is.EqualTo(stored));
        await imap.DisconnectAsync(true);
    }

    [Test]
    public async Task WhileMailAuthIsStoppedPostfixKeepsTheMessageQueuedAndDeliversItAfterTheRestart()
    {
        Assert.That(await SendAsync("chris@sender.example", Anna, "Subject: queued\r\n\r\nkept\r\n"), Is.EqualTo("sent"));
        await _lmtp.StopAsync();
        await FlushQueueAsync();
        Assert.That(await MailLogMatchesAsync("to=<anna@family\\.example>, relay=none, .* status=deferred \\(connect to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:[0-9]+: Connection refused\\)"),
            Is.True, MailLog());
        Assert.That(_lmtp.Inbox(Anna).Any(m => m.Contains("Subject: queued", StringComparison.Ordinal)), Is.False);

        await _lmtp.RestartAsync();
        await FlushQueueAsync();

        Assert.That(await WaitForMessageAsync(Anna, "Subject: queued"), Does.EndWith("\r\n\r\nkept\r\n"));
    }

    private async Task FlushQueueAsync()
    {
        var flush = await ExternalClient.RunAsync("/usr/sbin/postqueue", "-c", _config, "-f");
        Assert.That(flush.ExitCode, Is.Zero, flush.ToString());
    }

    [Test]
    public async Task AnUnknownRecipientIsRefusedAtRcptByPostfixSoNoBounceIsEverSent()
    {
        var answer = await SendAsync("chris@sender.example", "nobody@family.example", "Subject: lost\r\n\r\nx\r\n");

        Assert.That(answer, Is.EqualTo("550 5.1.1 <nobody@family.example>: Recipient address rejected: User unknown in virtual mailbox table"), MailLog());
        // The disabled mailbox too: refused in the SMTP dialogue, not accepted and bounced later.
        Assert.That(await SendAsync("chris@sender.example", Bob, "Subject: lost\r\n\r\nx\r\n"), Does.StartWith("550 5.1.1 "), MailLog());
    }

    [Test]
    public async Task AMailboxOverItsQuotaGetsAPermanentRefusalThatPostfixBounces()
    {
        Assert.That((await _lmtp.Cli.RunAsync("mailbox", "quota", Julie, "1")).ExitCode, Is.Zero);
        try
        {
            Assert.That(await SendAsync("chris@sender.example", Julie, "Subject: too much\r\n\r\nx\r\n"), Is.EqualTo("sent"));
            Assert.That(await MailLogMatchesAsync(
                $"to=<julie@family\\.example>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:{_lmtp.LmtpPort},.* dsn=5\\.2\\.2, status=bounced \\(host 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\] said: 552 5\\.2\\.2 <julie@family\\.example> Mailbox full"),
                Is.True, MailLog());
            Assert.That(_lmtp.Inbox(Julie).Any(m => m.Contains("Subject: too much", StringComparison.Ordinal)), Is.False);
        }
        finally
        {
            Assert.That((await _lmtp.Cli.RunAsync("mailbox", "quota", Julie, "none")).ExitCode, Is.Zero);
        }
    }

    [Test]
    public async Task AnotherDomainIsNotRelayed()
    {
        var answer = await SendAsync("chris@sender.example", "someone@elsewhere.example", "Subject: relay\r\n\r\nx\r\n");

        Assert.That(answer, Does.StartWith("454 4.7.1 <someone@elsewhere.example>: Relay access denied"), MailLog());
    }

    [Test]
    public async Task APostfixSubmissionServiceLetsALoginSendOnlyAsItsOwnAddress()
    {
        Assert.That(await SubmitAsync(Julie, "JULIE@family.example", Julie), Is.EqualTo("sent"), MailLog());
        Assert.That(await WaitForMessageAsync(Julie, "Subject: submitted by JULIE@family.example"), Does.Contain("Return-Path: <JULIE@family.example>"));

        Assert.That(await SubmitAsync(Julie, Anna, Julie),
            Is.EqualTo($"553 5.7.1 <{Anna}>: Sender address rejected: not owned by user {Julie}"), MailLog());
        Assert.That(await SubmitAsync(Julie, "stranger@family.example", Julie),
            Is.EqualTo($"553 5.7.1 <stranger@family.example>: Sender address rejected: not owned by user {Julie}"), MailLog());
    }

    private async Task<string> SubmitAsync(string login, string sender, string recipient)
    {
        var result = await ExternalClient.RunAsync("python3", Path.Combine(_work, "submit.py"),
            _submissionPort.ToString(CultureInfo.InvariantCulture), login, Password, sender, recipient);
        Assert.That(result.ExitCode, Is.Zero, $"{result}\n{MailLog()}");
        return result.Stdout.Trim();
    }

    [TestCase("family.example", "domains", "family.example")]
    [TestCase("FAMILY.EXAMPLE", "domains", "family.example")]
    [TestCase("elsewhere.example", "domains", null)]
    [TestCase("julie@family.example", "mailboxes", "julie@family.example")]
    [TestCase("nobody@family.example", "mailboxes", null)]
    [TestCase("julie@family.example", "senders", "julie@family.example")]
    [TestCase("bob@family.example", "senders", "bob@family.example")]
    [TestCase("nobody@family.example", "senders", null)]
    public async Task PostmapQueriesTheSocketmap(string key, string map, string? expected)
    {
        var result = await ExternalClient.RunAsync("/usr/sbin/postmap", "-c", _config, "-q", key, $"socketmap:inet:127.0.0.1:{_lmtp.SocketmapPort}:{map}");

        // postmap -q: exit 0 and the value when found, exit 1 and nothing when not (postmap(1)).
        Assert.That((result.ExitCode, result.Stdout.Trim()), Is.EqualTo(expected is null ? (1, "") : (0, expected)), result.ToString());
    }
}
