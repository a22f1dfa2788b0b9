using System.Text;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Smtp;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Sessions;

/// <summary>
/// Audit findings 1 and 10 on the real server: open IMAP and SMTP sessions end soon after their
/// mailbox's password changes, or it is disabled, removed or kicked, by the CLI in another
/// process; a new mailbox never inherits the last owner's mail, not even from an SMTP
/// transaction that began before the removal.
/// </summary>
[TestFixture]
public sealed class SessionRevocationTests
{
    private const string Domain = "family.example";
    private const string Password = "Pass-word-1";
    private const string NewPassword = "Pass-word-2";
    private const string CredentialsBye = "* BYE Your credentials changed, log in again";
    private const string Credentials421 = "421 4.7.0 Your credentials changed, log in again, closing connection";

    /// <summary>The promise is about a second (the watcher's poll); this leaves room for a loaded machine.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    private RunningServer _server = null!;
    private int _next;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", Domain)).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private async Task<string> NewMailboxAsync()
    {
        var address = $"user{Interlocked.Increment(ref _next)}@{Domain}";
        Expect(await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address), 0, $"mailbox {address} added");
        return address;
    }

    private string MaildirOf(string address) =>
        Path.Combine(_server.Cli.DataDirectory, "mail", Domain, address[..address.IndexOf('@', StringComparison.Ordinal)]);

    private async Task<ImapTestClient> ImapLoginAsync(string address, string password = Password, bool select = true, bool implicitTls = false)
    {
        var client = await ImapTestClient.ConnectAsync(_server, implicitTls);
        Assert.That((await client.CommandAsync("l", $"LOGIN {address} \"{password}\""))[^1], Does.StartWith("l OK"));
        if (select)
        {
            Assert.That((await client.CommandAsync("s", "SELECT INBOX"))[^1], Is.EqualTo("s OK [READ-WRITE] SELECT completed"));
        }
        return client;
    }

    private async Task<SmtpTranscript> SmtpLoginAsync(string address, bool implicitTls = false)
    {
        var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls);
        Assert.That(await smtp.LoginAsync(address, Password), Does.StartWith("235 "));
        return smtp;
    }

    /// <summary>Everything the server still sends until it closes the connection; fails when that takes longer than <see cref="Deadline"/>.</summary>
    private static async Task<List<string>> LinesUntilClosedAsync(ImapTestClient client)
    {
        var lines = new List<string>();
        var deadline = Task.Delay(Deadline);
        while (true)
        {
            var read = client.TryReadLineAsync();
            if (await Task.WhenAny(read, deadline) == deadline)
            {
                Assert.Fail($"the session was not closed within {Deadline.TotalSeconds} s; it sent: {string.Join(" | ", lines)}");
            }
            if (await read is not { } line)
            {
                return lines;
            }
            lines.Add(line);
        }
    }

    private static async Task<string> SmtpReplyWithinDeadlineAsync(SmtpTranscript smtp)
    {
        try
        {
            return await smtp.ReadReplyAsync().WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no SMTP reply within {Deadline.TotalSeconds} s");
            throw;
        }
    }

    [Test]
    public async Task AnImapSessionEndsWithByeAfterThePasswordIsChangedByTheCli()
    {
        var address = await NewMailboxAsync();
        await using var client = await ImapLoginAsync(address, implicitTls: true);

        Expect(await _server.Cli.RunWithInputAsync(NewPassword + "\n", "mailbox", "passwd", address), 0, $"password of {address} changed");

        Assert.That(await LinesUntilClosedAsync(client), Is.EqualTo(new[] { CredentialsBye }));
        Assert.That(await _server.LoggedAsync($"imap session ended reason=credentials-changed address={address}"), Is.True, _server.Log);
        await using var again = await ImapLoginAsync(address, NewPassword);
    }

    [Test]
    public async Task AnIdlingImapSessionEndsWithByeWhenTheMailboxIsDisabled()
    {
        var address = await NewMailboxAsync();
        await using var client = await ImapLoginAsync(address);
        await client.SendAsync("i IDLE\r\n");
        Assert.That(await client.ReadLineAsync(), Is.EqualTo("+ idling"));

        Expect(await _server.Cli.RunAsync("mailbox", "disable", address, "--reason", "unpaid"), 0, $"mailbox {address} disabled");

        Assert.That(await LinesUntilClosedAsync(client), Is.EqualTo(new[] { CredentialsBye }));
    }

    [Test]
    public async Task AfterRemoveAndAddTheOldSessionCanNeitherCreateNorReadInTheNewOwnersMailbox()
    {
        var address = await NewMailboxAsync();
        await using var old = await ImapLoginAsync(address, select: false);
        var maildir = MaildirOf(address);
        Assert.That(Directory.Exists(maildir), Is.True);

        var removed = await _server.Cli.RunAsync("mailbox", "remove", address);
        Expect(removed, 0, $"mailbox {address} removed");
        // Right after the removal, whether or not the watcher has ended the session yet: the folder
        // is not created, and neither is the mailbox directory the removal moved away.
        await old.SendAsync("c CREATE Stolen\r\n");
        var answers = await LinesUntilClosedAsync(old);
        Assert.Multiple(() =>
        {
            Assert.That(answers, Has.None.StartWith("c OK"));
            Assert.That(Directory.Exists(maildir), Is.False, "the removed mailbox's Maildir was created again");
        });

        Expect(await _server.Cli.RunWithInputAsync(NewPassword + "\n", "mailbox", "add", address), 0, $"mailbox {address} added");
        await ExternalClient.DeliverAsync(_server, address, Encoding.UTF8.GetBytes("Subject: for the new owner\r\n\r\nprivate\r\n"));
        await using var owner = await ImapLoginAsync(address, NewPassword, select: false);
        Assert.That(await owner.CommandAsync("l", "LIST \"\" *"), Has.None.Contains("Stolen"));
        Assert.That(await owner.CommandAsync("s", "SELECT INBOX"), Does.Contain("* 1 EXISTS"));
        Assert.That(removed.Stdout, Does.Contain("its mail was moved to"), "the old owner's mail was archived, not handed over");
    }

    [Test]
    public async Task PasswdWithKeepSessionsLeavesTheSessionsOpen()
    {
        var kept = await NewMailboxAsync();
        var ended = await NewMailboxAsync();
        await using var keptClient = await ImapLoginAsync(kept);
        await using var endedClient = await ImapLoginAsync(ended);

        Expect(await _server.Cli.RunWithInputAsync(NewPassword + "\n", "mailbox", "passwd", kept, "--keep-sessions"), 0, $"password of {kept} changed");
        Expect(await _server.Cli.RunWithInputAsync(NewPassword + "\n", "mailbox", "passwd", ended), 0, $"password of {ended} changed");
        // The watcher reads the log in order: once the later change has ended its session, it has seen the first one.
        Assert.That(await LinesUntilClosedAsync(endedClient), Is.EqualTo(new[] { CredentialsBye }));

        Assert.That(await keptClient.CommandAsync("n", "NOOP"), Is.EqualTo(new[] { "n OK NOOP completed" }));
        Assert.That(_server.Log, Does.Not.Contain($"session ended reason=credentials-changed address={kept}"));
    }

    [Test]
    public async Task AnSmtpSessionGets421AfterThePasswordIsChangedByTheCli()
    {
        var address = await NewMailboxAsync();
        await using var smtp = await SmtpLoginAsync(address, implicitTls: true);

        Expect(await _server.Cli.RunWithInputAsync(NewPassword + "\n", "mailbox", "passwd", address), 0, $"password of {address} changed");

        Assert.That(await SmtpReplyWithinDeadlineAsync(smtp), Is.EqualTo(Credentials421));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
        Assert.That(await _server.LoggedAsync($"smtp session ended reason=credentials-changed address={address}"), Is.True, _server.Log);
    }

    [Test]
    public async Task AMessageBeingSentWhenTheSendersPasswordChangesIsNotDelivered()
    {
        var sender = await NewMailboxAsync();
        var recipient = await NewMailboxAsync();
        await using var smtp = await SmtpLoginAsync(sender);
        Assert.That(await smtp.CommandAsync($"MAIL FROM:<{sender}>"), Does.StartWith("250 "));
        Assert.That(await smtp.CommandAsync($"RCPT TO:<{recipient}>"), Does.StartWith("250 "));
        Assert.That(await smtp.CommandAsync("DATA"), Does.StartWith("354 "));
        var token = SmtpTestServer.Token();
        await smtp.SendAsync($"Subject: {token}\r\n\r\nthe first half of the message\r\n");

        Expect(await _server.Cli.RunWithInputAsync(NewPassword + "\n", "mailbox", "passwd", sender), 0, $"password of {sender} changed");

        Assert.That(await SmtpReplyWithinDeadlineAsync(smtp), Is.EqualTo(Credentials421));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
        Assert.That(DeliveredFilesContaining(token), Is.Empty);
        Assert.That(Directory.EnumerateFiles(Path.Combine(_server.Cli.DataDirectory, "spool")), Is.Empty, "the partial message is dropped");
    }

    [Test]
    public async Task MailboxKickEndsEveryImapAndSmtpSessionOfTheMailbox()
    {
        var address = await NewMailboxAsync();
        var other = await NewMailboxAsync();
        await using var first = await ImapLoginAsync(address);
        await using var idling = await ImapLoginAsync(address, select: false);
        await idling.SendAsync("i IDLE\r\n");
        Assert.That(await idling.ReadLineAsync(), Is.EqualTo("+ idling"));
        await using var smtp = await SmtpLoginAsync(address);
        await using var untouched = await ImapLoginAsync(other);

        Expect(await _server.Cli.RunAsync("mailbox", "kick", address.ToUpperInvariant()), 0, $"ended 3 session(s) of {address}");

        Assert.That(await LinesUntilClosedAsync(first), Is.EqualTo(new[] { "* BYE Session ended by the administrator" }));
        Assert.That(await LinesUntilClosedAsync(idling), Is.EqualTo(new[] { "* BYE Session ended by the administrator" }));
        Assert.That(await SmtpReplyWithinDeadlineAsync(smtp), Is.EqualTo("421 4.7.0 Session ended by the administrator, closing connection"));
        Assert.That(await untouched.CommandAsync("n", "NOOP"), Is.EqualTo(new[] { "n OK NOOP completed" }));
        Assert.That(await _server.LoggedAsync($"sessions ended=3 by the admin (kick) address={address}"), Is.True, _server.Log);

        Expect(await _server.Cli.RunAsync("mailbox", "kick", address), 0, $"ended 0 session(s) of {address}");
        var invalid = await _server.Cli.RunAsync("mailbox", "kick", "not an address");
        Refused(invalid, 1, null);
        Assert.That(OneErrorLine(invalid), Does.StartWith("invalid address"));
    }

    [Test]
    public async Task MailboxKickWithoutARunningServerIsRefused()
    {
        using var alone = new MailAuthProcess();
        var result = await alone.RunAsync("mailbox", "kick", $"julie@{Domain}");
        Refused(result, 1, null);
        Assert.That(OneErrorLine(result), Does.StartWith("the server is not running for this data directory"));
    }

    [Test]
    public async Task ANewMailboxNeverAdoptsMailLeftAtItsMaildir()
    {
        var address = $"leftover{Interlocked.Increment(ref _next)}@{Domain}";
        var maildir = MaildirOf(address);
        Directory.CreateDirectory(Path.Combine(maildir, "cur"));
        await File.WriteAllTextAsync(Path.Combine(maildir, "cur", "1.old:2,S"), "Subject: the last owner's mail\r\n\r\nprivate\r\n");

        var added = await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address);
        Assert.That(added.ExitCode, Is.Zero, added.ToString());
        Assert.That(added.Stdout, Does.Contain($"mail already at the Maildir of {address} (no mailbox owned it) was moved to"));

        var archived = Directory.GetDirectories(Path.Combine(_server.Cli.DataDirectory, "removed", Domain), Path.GetFileName(maildir) + ".*");
        Assert.That(archived, Has.Length.EqualTo(1));
        Assert.That(File.Exists(Path.Combine(archived[0], "cur", "1.old:2,S")), Is.True);
        await using var owner = await ImapLoginAsync(address, select: false);
        Assert.That(await owner.CommandAsync("s", "SELECT INBOX"), Does.Contain("* 0 EXISTS"));
    }

    [Test]
    public async Task AnImportMovesLeftoverMailOfNewMailboxesOnly()
    {
        var existing = await NewMailboxAsync();
        await (await ImapLoginAsync(existing, select: false)).DisposeAsync(); // creates its Maildir
        var fresh = $"imported{Interlocked.Increment(ref _next)}@{Domain}";
        Directory.CreateDirectory(Path.Combine(MaildirOf(fresh), "cur"));
        await File.WriteAllTextAsync(Path.Combine(MaildirOf(fresh), "cur", "1.old:2,S"), "Subject: old\r\n\r\nold\r\n");

        var imported = await _server.Cli.RunWithInputAsync(
            $"{existing}:{{PLAIN}}{NewPassword}\n{fresh}:{{PLAIN}}{Password}\n", "mailbox", "import", "-", "--replace-existing");

        Assert.That(imported.ExitCode, Is.Zero, imported.ToString());
        Assert.That(imported.Stdout, Does.Contain($"mail already at the Maildir of {fresh} (no mailbox owned it) was moved to"));
        Assert.That(imported.Stdout, Does.Not.Contain(existing));
        Assert.That(Directory.Exists(Path.Combine(MaildirOf(existing), "cur")), Is.True, "an existing mailbox keeps its mail");
        Assert.That(Directory.Exists(MaildirOf(fresh)), Is.False);
    }

    [Test]
    public async Task ARecipientRemovedBetweenRcptAndDataGetsNothing()
    {
        var sender = await NewMailboxAsync();
        var recipient = await NewMailboxAsync();
        await using var smtp = await SmtpLoginAsync(sender);
        Assert.That(await smtp.CommandAsync($"MAIL FROM:<{sender}>"), Does.StartWith("250 "));
        Assert.That(await smtp.CommandAsync($"RCPT TO:<{recipient}>"), Does.StartWith("250 "));

        Expect(await _server.Cli.RunAsync("mailbox", "remove", recipient), 0, $"mailbox {recipient} removed");

        Assert.That(await smtp.CommandAsync("DATA"), Does.StartWith("354 "));
        var token = SmtpTestServer.Token();
        Assert.That(await smtp.CommandAsync($"Subject: {token}\r\n\r\nfor the removed mailbox\r\n."),
            Is.EqualTo("554 5.1.1 A recipient's mailbox was removed or disabled after RCPT; nothing was delivered"));
        Assert.That(await smtp.CommandAsync("NOOP"), Does.StartWith("250 "), "the sender's session goes on");
        Assert.Multiple(() =>
        {
            Assert.That(Directory.Exists(MaildirOf(recipient)), Is.False, "the removed mailbox's Maildir was created by the delivery");
            Assert.That(DeliveredFilesContaining(token), Is.Empty);
        });
    }

    private List<string> DeliveredFilesContaining(string token)
    {
        var mail = Path.Combine(_server.Cli.DataDirectory, "mail");
        if (!Directory.Exists(mail))
        {
            return [];
        }
        return [.. Directory.EnumerateFiles(mail, "*", SearchOption.AllDirectories)
            .Where(path => File.ReadAllText(path).Contains(token, StringComparison.Ordinal))];
    }
}
