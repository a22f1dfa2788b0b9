using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Imap;

/// <summary>UIDs and UIDVALIDITY survive a restart of the server on the same data directory.</summary>
[TestFixture]
public sealed class ImapRestartTests
{
    private const string Address = "julie@family.example";
    private const string Password = "restart-pass 3";

    [Test]
    public async Task UidsAreStableAcrossAServerRestart()
    {
        var cli = new MailAuthProcess();
        try
        {
            var first = await RunningServer.StartAsync(existing: cli);
            string validity;
            ImapTestClient? idle = null;
            try
            {
                Assert.That((await cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
                Assert.That((await cli.RunWithInputAsync(Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
                await ExternalClient.DeliverAsync(first, Address, "Subject: one\r\n\r\n1\r\n"u8.ToArray());
                await ExternalClient.DeliverAsync(first, Address, "Subject: two\r\n\r\n2\r\n"u8.ToArray());
                var client = await ImapTestClient.ConnectAsync(first);
                await client.CommandAsync("a", $"LOGIN {Address} \"{Password}\"");
                var select = await client.CommandAsync("b", "SELECT INBOX");
                validity = Regex.Match(string.Join('\n', select), @"UIDVALIDITY (\d+)").Groups[1].Value;
                Assert.That(await client.CommandAsync("c", "UID STORE 1 +FLAGS.SILENT (\\Deleted)"), Is.EqualTo(new[] { "c OK UID STORE completed" }));
                Assert.That(await client.CommandAsync("d", "EXPUNGE"), Is.EqualTo(new[] { "* 1 EXPUNGE", "d OK EXPUNGE completed" }));
                Assert.That(await client.CommandAsync("e", "UID STORE 2 +FLAGS (\\Answered)"), Is.EqualTo(new[] { "* 1 FETCH (FLAGS (\\Answered \\Recent) UID 2)", "e OK UID STORE completed" }));
                idle = client;
                Assert.That(await client.CommandAsync("f", "NOOP"), Is.EqualTo(new[] { "f OK NOOP completed" }));
            }
            finally
            {
                await first.DisposeAsync();
            }
            // A connected client is told that the server stopped (RFC 3501 §7.1.5).
            Assert.That(await idle!.ReadLineAsync(), Is.EqualTo("* BYE Server shutting down"));
            Assert.That(await idle.TryReadLineAsync(), Is.Null);
            await idle.DisposeAsync();

            await using var second = await RunningServer.StartAsync(existing: cli);
            await ExternalClient.DeliverAsync(second, Address, "Subject: three\r\n\r\n3\r\n"u8.ToArray());
            await using var again = await ImapTestClient.ConnectAsync(second);
            await again.CommandAsync("a", $"LOGIN {Address} \"{Password}\"");
            var reselect = await again.CommandAsync("b", "SELECT INBOX");
            Assert.That(reselect, Does.Contain($"* OK [UIDVALIDITY {validity}] UIDs valid"));
            Assert.That(reselect, Does.Contain("* OK [UIDNEXT 4] Predicted next UID"));
            Assert.That(await again.CommandAsync("c", "FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), Is.EqualTo(new[]
            {
                "* 1 FETCH (UID 2 FLAGS (\\Answered) BODY[HEADER.FIELDS (SUBJECT)] {16}",
                "Subject: two",
                "",
                ")",
                "* 2 FETCH (UID 3 FLAGS (\\Recent) BODY[HEADER.FIELDS (SUBJECT)] {18}",
                "Subject: three",
                "",
                ")",
                "c OK FETCH completed",
            }));
        }
        finally
        {
            cli.Dispose();
        }
    }
}
