using System.Text;
using MailAuth.Core.Storage;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Smtp;
using Microsoft.Data.Sqlite;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>
/// Attempts to exhaust the server's memory and CPU, and a database failing under it, against a
/// server of their own (a deliberately tiny SEARCH time budget, the default pre-login timeouts):
/// the client gets a clear NO, BAD or BYE, the log one line, and everything else goes on.
/// </summary>
[TestFixture]
public sealed class ExhaustionTests
{
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(6);
    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Imap__MaxConnectionsPerAddress"] = "200",
            // Deliberately tiny, so that any real search runs into it.
            ["MailAuth__Imap__MaxSearchMilliseconds"] = "1",
        });
        await _server.Cli.RunAsync("domain", "add", "family.example");
        await _server.Cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", "julie@family.example");
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    /// <summary>
    /// Finding 7: one pre-login command used to hold up to 32 literals each followed by a 64 KiB line
    /// (2 MiB); 100 such connections took the server from 103 to 322 MB. Now every byte of a command
    /// before login counts toward MaxCommandBytesBeforeLogin (40 KiB).
    /// </summary>
    [Test]
    public async Task AHundredUnauthenticatedWorstCaseCommandsCostOnlyAFewMegabytes()
    {
        const int Connections = 100;
        var clients = new List<LineConnection>();
        var before = _server.ResidentMemoryMiB();
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                var client = await LineConnection.OpenAsync(_server.ImapPort);
                clients.Add(client);
                Assert.That(await client.ReadLineAsync(), Does.StartWith("* OK"));
            }
            // The audit's command: a literal, then a 64 KiB line announcing the next literal, 32 times,
            // all but its final CRLF, so that a server buffering it would hold 2 MiB per connection at once.
            var literal = new string('L', 4000);
            var command = new StringBuilder("a1 LOGIN {4000+}\r\n");
            for (var i = 0; i < 31; i++)
            {
                command.Append(literal).Append(new string('x', 64 * 1024 - 9)).Append(" {4000+}\r\n");
            }
            command.Append(literal);
            var answers = await Task.WhenAll(clients.Select(async c =>
            {
                await SendIgnoringResetAsync(c, command.ToString());
                try
                {
                    return await c.ReadLineAsync(Slack);
                }
                catch (OperationCanceledException)
                {
                    return null; // no answer: the server is still holding the command
                }
            }));
            var holding = _server.ResidentMemoryMiB();
            var closed = await Task.WhenAll(clients.Select(async c =>
            {
                await SendIgnoringResetAsync(c, "\r\n");
                return await c.ClosedWithinAsync(Slack);
            }));
            TestContext.Out.WriteLine($"server memory: {before:0.0} MiB before {Connections} connections, {holding:0.0} MiB with their commands sent");
            Assert.That(answers, Is.All.EqualTo("* BYE Command too long before login, closing the connection"));
            Assert.That(closed, Is.All.True, "every connection was closed");
            Assert.That(holding - before, Is.LessThan(16), "100 commands before login cost a few MB, not 2 MiB each");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task ASearchOverItsTimeBudgetIsRefusedWithLimitAndTheSessionGoesOn()
    {
        await using var client = await LoggedInAsync();
        await LargeSearch.CreateFolderAsync(client, _server, "julie", "Slow", count: 2);
        Assert.That((await client.CommandAsync("s", "SELECT Slow"))[^1], Does.StartWith("s OK"));
        Assert.That(await client.CommandAsync("a", "SEARCH " + LargeSearch.Keys()),
            Is.EqualTo(new[] { "a NO [LIMIT] SEARCH took longer than the server allows; narrow the search" }));
        Assert.That(await client.CommandAsync("b", "FETCH 2 RFC822.SIZE"), Has.Count.EqualTo(2).And.Some.StartsWith("* 2 FETCH (RFC822.SIZE "));
    }

    /// <summary>
    /// An unexpected exception in a command (here the credential store failing: its table is gone)
    /// costs one command: IMAP NO [SERVERBUG], SMTP 451 4.3.0, one Error log line each, and the
    /// sessions go on, logging in once the database is back.
    /// </summary>
    [Test]
    public async Task AnUnexpectedErrorCostsOneCommandNotTheSession()
    {
        await using var imap = await ImapTestClient.ConnectAsync(_server);
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await smtp.CommandAsync("EHLO client.example"), Does.StartWith("250-"));
        var plain = "AUTH PLAIN " + SmtpTranscript.Base64("\0julie@family.example\0123-Abc");
        await RenameMailboxesTableAsync("mailboxes", "gone_mailboxes");
        try
        {
            Assert.That(await imap.CommandAsync("a", "LOGIN julie@family.example 123-Abc"), Is.EqualTo(new[] { "a NO [SERVERBUG] Internal server error, the command failed" }));
            Assert.That(await smtp.CommandAsync(plain), Is.EqualTo("451 4.3.0 Internal server error, try again later"));
        }
        finally
        {
            await RenameMailboxesTableAsync("gone_mailboxes", "mailboxes");
        }
        Assert.That(await LogLineAsync("imap address= command=LOGIN failed unexpectedly"), Is.True, _server.Log);
        Assert.That(await LogLineAsync("smtp address= command=AUTH failed unexpectedly"), Is.True, _server.Log);
        Assert.That(_server.Log, Does.Contain("no such table: mailboxes"), "the exception is logged with the line");
        Assert.That((await imap.CommandAsync("b", "LOGIN julie@family.example 123-Abc"))[^1], Does.StartWith("b OK"));
        Assert.That(await smtp.CommandAsync(plain), Is.EqualTo("235 2.7.0 Authentication successful"));
    }

    private async Task<ImapTestClient> LoggedInAsync()
    {
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", "LOGIN julie@family.example 123-Abc"))[^1], Does.StartWith("l OK"));
        return client;
    }

    private async Task RenameMailboxesTableAsync(string from, string to)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_server.Cli.DataDirectory, SqliteDatabase.FileName)}");
        await connection.OpenAsync();
        await using var rename = connection.CreateCommand();
        rename.CommandText = $"PRAGMA foreign_keys = OFF; ALTER TABLE {from} RENAME TO {to};";
        await rename.ExecuteNonQueryAsync();
    }

    /// <summary>A log line holding <paramref name="text"/> (the console logger writes asynchronously: give it a moment).</summary>
    private async Task<bool> LogLineAsync(string text)
    {
        for (var i = 0; i < 100; i++)
        {
            if (_server.Log.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
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
}
