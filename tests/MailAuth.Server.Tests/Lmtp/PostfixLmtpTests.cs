using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using MailAuth.Core.Tests.Storage;
using MailAuth.Server.Tests.Imap;
using MailKit;
using Npgsql;
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

    /// <summary>The second MailAuth's domain: its store is PostgreSQL, which the store test takes away.</summary>
    private const string StoreDomain = "store.example";

    private static readonly string StoreMailbox = InDomain(Julie, StoreDomain);

    private LmtpServer _lmtp = null!;
    private LmtpServer _store = null!;
    private string _storeRole = null!;
    private PostfixInstance _postfix = null!;
    private string _socketmapSocket = null!;
    private int _submissionPort;

    [OneTimeSetUp]
    public async Task StartPostfix()
    {
        var cli = new MailAuthProcess();
        // Postfix's lmtp and socketmap clients run as the postfix user, which must reach both
        // sockets (0660): a directory of the postfix group with the set-group-ID bit gives each
        // socket file that group (README "Mail from the internet").
        var sockets = Path.Combine(cli.WorkingDirectory, "sockets");
        Directory.CreateDirectory(sockets);
        Assert.That((await ExternalClient.RunAsync("chgrp", "postfix", sockets)).ExitCode, Is.Zero);
        Assert.That((await ExternalClient.RunAsync("chmod", "2750", sockets)).ExitCode, Is.Zero);
        _socketmapSocket = Path.Combine(sockets, "socketmap.sock");
        var saslPort = RunningServer.FreePort();
        _lmtp = await LmtpServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Lmtp__SocketPath"] = Path.Combine(sockets, "lmtp.sock"),
            ["MailAuth__Socketmap__SocketPath"] = _socketmapSocket,
            ["MailAuth__SaslService__TcpPort"] = saslPort.ToString(CultureInfo.InvariantCulture),
            // The submission test logs in over loopback without TLS.
            ["MailAuth__SaslService__AllowPlaintextWithoutTls"] = "true",
        }, cli);
        _store = await StartOnOwnPostgresRoleAsync();

        _submissionPort = RunningServer.FreePort();
        var socketmap = $"socketmap:unix:{_socketmapSocket}";
        var storeSocketmap = $"socketmap:inet:127.0.0.1:{_store.SocketmapPort}";
        var lmtp = $"unix:{_lmtp.SocketPath}";
        var heldTransport = $"inline:{{ {Anna}=held:{lmtp}, {StoreDomain}=held:inet:127.0.0.1:{_store.LmtpPort} }}";
        _postfix = await PostfixInstance.StartAsync(Path.Combine(cli.WorkingDirectory, "postfix"), "mx.family.example", $"""
            mynetworks = 192.0.2.1/32
            smtpd_error_sleep_time = 0
            # family.example: both MailAuth services on UNIX sockets; store.example: a second
            # MailAuth on TCP, asked when the first says NOTFOUND.
            virtual_mailbox_domains = {socketmap}:domains, {storeSocketmap}:domains
            virtual_mailbox_maps = {socketmap}:mailboxes, {storeSocketmap}:mailboxes
            virtual_transport = lmtp:{lmtp}
            # Anna's and store.example's mail waits in the queue until it is flushed (the restart
            # and store tests).
            transport_maps = {heldTransport}
            defer_transports = held
            smtpd_sasl_type = dovecot
            smtpd_sasl_path = inet:127.0.0.1:{saslPort}
            smtpd_sender_login_maps = {socketmap}:senders

            """,
            "held unix - - n - - lmtp",
            $"127.0.0.1:{_submissionPort} inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_sender_restrictions=reject_sender_login_mismatch");
        await File.WriteAllTextAsync(Path.Combine(_postfix.Work, "client.py"), SmtpClient);
        await File.WriteAllTextAsync(Path.Combine(_postfix.Work, "submit.py"), SubmissionClient);
    }

    /// <summary>
    /// A MailAuth for store.example whose PostgreSQL store is reached as a role of its own, so that
    /// the store test can refuse that role's connections without touching anyone else's.
    /// </summary>
    private async Task<LmtpServer> StartOnOwnPostgresRoleAsync()
    {
        _storeRole = "r_" + Guid.NewGuid().ToString("N");
        var schema = new NpgsqlConnectionStringBuilder(PostgresTestServer.CreateSchema()).SearchPath!;
        await PostgresAdminAsync($"CREATE ROLE {_storeRole} LOGIN; ALTER SCHEMA {schema} OWNER TO {_storeRole}");
        var connection = new NpgsqlConnectionStringBuilder(PostgresTestServer.AdminConnectionString) { Username = _storeRole, SearchPath = schema };
        var cli = MailAuthProcess.OnPostgres(connection.ToString());
        return await LmtpServer.StartAsync(cli: cli, domain: StoreDomain);
    }

    private static async Task PostgresAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresTestServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [OneTimeTearDown]
    public async Task StopPostfix()
    {
        if (_postfix is not null)
        {
            await _postfix.DisposeAsync();
        }
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
        await _lmtp.DisposeAsync();
    }

    private string MailLog() => _postfix.MailLog();

    private Task<bool> MailLogMatchesAsync(string pattern) => _postfix.MailLogMatchesAsync(pattern);

    private async Task<string> SendAsync(string sender, string recipient, string message)
    {
        var file = Path.Combine(_postfix.Work, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllTextAsync(file, message);
        var result = await ExternalClient.RunAsync("python3", Path.Combine(_postfix.Work, "client.py"),
            _postfix.SmtpPort.ToString(CultureInfo.InvariantCulture), sender, recipient, file);
        Assert.That(result.ExitCode, Is.Zero, $"{result}\n{MailLog()}");
        return result.Stdout.Trim();
    }

    private Task<string> WaitForMessageAsync(string address, string subject) => WaitForMessageAsync(_lmtp, address, subject);

    private async Task<string> WaitForMessageAsync(LmtpServer server, string address, string subject)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (server.Inbox(address).FirstOrDefault(m => m.Contains(subject, StringComparison.Ordinal)) is { } message)
            {
                return message;
            }
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"no '{subject}' delivered to {address}\n{MailLog()}\n{server.Server.Log}");
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
        Assert.That(stored, Does.StartWith($"Return-Path: <chris@sender.example>\r\nDelivered-To: {Julie}\r\nReceived: from mx.family.example (local socket)\r\n"));
        Assert.That(stored, Does.Contain("(Postfix) with ESMTP id"));
        Assert.That(stored, Does.EndWith(original));
        Assert.That(await MailLogMatchesAsync($"to=<Julie@Family\\.Example>, relay=mx\\.family\\.example\\[{Regex.Escape(_lmtp.SocketPath)}\\],.* status=sent \\(250 2\\.0\\.0 <julie@family\\.example> [0-9A-F]+ Saved\\)"), Is.True, MailLog());

        Assert.That(await ReadOverImapAsync(Julie, "through postfix"), Is.EqualTo(stored));
    }

    /// <summary>The one message of <paramref name="address"/>'s INBOX whose subject contains <paramref name="subject"/>, as IMAP serves it.</summary>
    private async Task<string> ReadOverImapAsync(string address, string subject)
    {
        using var imap = await MailKitClients.ImapAsync(_lmtp.Server, address, Password);
        var inbox = imap.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);
        var uid = (await inbox.SearchAsync(MailKit.Search.SearchQuery.SubjectContains(subject))).Single();
        await using var body = await inbox.GetStreamAsync(uid, "");
        using var read = new MemoryStream();
        await body.CopyToAsync(read);
        await imap.DisconnectAsync(true);
        return Encoding.UTF8.GetString(read.ToArray());
    }

    [Test]
    public async Task WhileMailAuthIsStoppedPostfixKeepsTheMessageQueuedAndDeliversItAfterTheRestart()
    {
        var original = "From: <chris@sender.example>\r\nTo: <anna@family.example>\r\nSubject: queued\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <queued@sender.example>\r\n\r\nkept\r\n\u00e7a va\r\n";
        Assert.That(await SendAsync("chris@sender.example", Anna, original), Is.EqualTo("sent"));
        await _lmtp.StopAsync();
        await FlushQueueAsync();
        Assert.That(await MailLogMatchesAsync($"to=<anna@family\\.example>, relay=none, .* status=deferred \\(connect to mx\\.family\\.example\\[{Regex.Escape(_lmtp.SocketPath)}\\]: No such file or directory\\)"),
            Is.True, MailLog());
        Assert.That(_lmtp.Inbox(Anna).Any(m => m.Contains("Subject: queued", StringComparison.Ordinal)), Is.False);

        await _lmtp.RestartAsync();
        await FlushQueueAsync();

        var stored = await WaitForMessageAsync(Anna, "Subject: queued");
        Assert.That(stored, Does.EndWith(original));
        Assert.That(_lmtp.Inbox(Anna), Has.Length.EqualTo(1), "delivered once");
        Assert.That(await ReadOverImapAsync(Anna, "queued"), Is.EqualTo(stored));
    }

    private Task FlushQueueAsync() => _postfix.FlushQueueAsync();

    [Test]
    public async Task WhileTheStoreFailsPostfixIsToldToTryAgainAndNothingIsRefusedOrLost()
    {
        Assert.That(await SendAsync("chris@sender.example", StoreMailbox, "Subject: accepted before\r\n\r\nkept\r\n"), Is.EqualTo("sent"));

        // A transaction whose recipient was accepted just before the store failed.
        await using var connection = await _store.ConnectAsync();
        await connection.SendAsync($"LHLO mx.family.example\r\nMAIL FROM:<chris@sender.example>\r\nRCPT TO:<{StoreMailbox}>\r\n");
        Assert.That((await connection.ReadLinesAsync(8))[^2..], Is.EqualTo(new[] { "250 2.1.0 Sender OK", "250 2.1.5 Recipient OK" }));

        // The store's PostgreSQL refuses this MailAuth: its open connections are ended, new ones refused.
        await PostgresAdminAsync($"ALTER ROLE {_storeRole} NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{_storeRole}'");
        try
        {
            // The copy is checked against the store again before it is written: 451 for that recipient.
            await connection.SendAsync("DATA\r\n");
            Assert.That(await connection.ReadLineAsync(), Does.StartWith("354 "));
            await connection.SendAsync("Subject: during the failure\r\n\r\nx\r\n.\r\n");
            Assert.That(await connection.ReadLineAsync(), Is.EqualTo("451 4.3.0 Mailbox database unavailable, try again later"));

            // The socketmap says TEMP, so Postfix answers 451 at RCPT: the sender keeps the message.
            Assert.That(await SendAsync("chris@sender.example", StoreMailbox, "Subject: refused for now\r\n\r\nx\r\n"),
                Is.EqualTo($"451 4.3.0 <{StoreMailbox}>: Temporary lookup failure"), MailLog());
            Assert.That(await AskSocketmapAsync("mailboxes " + StoreMailbox), Is.EqualTo("TEMP mailbox database unavailable"));

            // The message Postfix already holds: LMTP answers 451 4.3.0 at RCPT, Postfix defers it.
            await FlushQueueAsync();
            Assert.That(await MailLogMatchesAsync($"to=<{Regex.Escape(StoreMailbox)}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:{_store.LmtpPort},.* status=deferred \\(host 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\] said: 451 4\\.3\\.0 Mailbox database unavailable, try again later \\(in reply to RCPT TO command\\)\\)"),
                Is.True, MailLog());
        }
        finally
        {
            await PostgresAdminAsync($"ALTER ROLE {_storeRole} LOGIN");
        }

        // As Postfix would, ask again later; the connections ended above are dropped as they are met.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await AskSocketmapAsync("mailboxes " + StoreMailbox) != "OK " + StoreMailbox)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), _store.Server.Log);
            await Task.Delay(100);
        }
        await FlushQueueAsync();
        Assert.That(await WaitForMessageAsync(_store, StoreMailbox, "Subject: accepted before"), Does.EndWith("\r\n\r\nkept\r\n"));
        Assert.That(_store.Inbox(StoreMailbox), Has.Length.EqualTo(1), "nothing delivered while the store failed");
    }

    /// <summary>One socketmap request to the store.example MailAuth, as Postfix sends it (a netstring); its netstring reply.</summary>
    private async Task<string> AskSocketmapAsync(string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _store.SocketmapPort);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetByteCount(request)}:{request},"));
        var reply = new MemoryStream();
        var buffer = new byte[512];
        while (reply.Length == 0 || reply.GetBuffer()[reply.Length - 1] != ',')
        {
            var read = await stream.ReadAsync(buffer);
            Assert.That(read, Is.Positive, "socketmap closed before its reply");
            reply.Write(buffer, 0, read);
        }
        var text = Encoding.UTF8.GetString(reply.ToArray());
        return text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..^1];
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
                $"to=<julie@family\\.example>, relay=mx\\.family\\.example\\[{Regex.Escape(_lmtp.SocketPath)}\\],.* dsn=5\\.2\\.2, status=bounced \\(host mx\\.family\\.example\\[{Regex.Escape(_lmtp.SocketPath)}\\] said: 552 5\\.2\\.2 <julie@family\\.example> Mailbox full"),
                Is.True, MailLog());
            Assert.That(_lmtp.Inbox(Julie).Any(m => m.Contains("Subject: too much", StringComparison.Ordinal)), Is.False);
        }
        finally
        {
            // The bounce to the sender cannot leave this test machine.
            await _postfix.EmptyQueueAsync();
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
        var result = await ExternalClient.RunAsync("python3", Path.Combine(_postfix.Work, "submit.py"),
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
        var result = await ExternalClient.RunAsync("/usr/sbin/postmap", "-c", _postfix.Config, "-q", key, $"socketmap:unix:{_socketmapSocket}:{map}");

        // postmap -q: exit 0 and the value when found, exit 1 and nothing when not (postmap(1)).
        Assert.That((result.ExitCode, result.Stdout.Trim()), Is.EqualTo(expected is null ? (1, "") : (0, expected)), result.ToString());
    }
}
