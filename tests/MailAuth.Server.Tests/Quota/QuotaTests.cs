using System.Text;
using System.Text.Json;
using MailAuth.Server.Tests.Cli;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Lmtp;
using MailKit;
using MailKit.Net.Imap;
using MimeKit;
using static MailAuth.Server.Tests.Lmtp.LmtpServer;

namespace MailAuth.Server.Tests.Quota;

/// <summary>
/// Quotas on one real server: set with the CLI, shown over IMAP (RFC 9208, MailKit and a raw
/// transcript), enforced by LMTP (552 5.2.2 per recipient), IMAP APPEND and COPY ([OVERQUOTA]),
/// and the usage kept right when another program removes a file.
/// </summary>
[TestFixture]
public sealed class QuotaTests
{
    private const int Small = 7000;
    private const int Big = 15000;
    private LmtpServer _lmtp = null!;

    [OneTimeSetUp]
    public async Task Start() => _lmtp = await LmtpServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _lmtp.DisposeAsync();

    [Test]
    public async Task TheCliSetsQuotasAndRefusesBadSizesWithOneLine()
    {
        var cli = _lmtp.Cli;
        CliAssert.Expect(await cli.RunAsync("mailbox", "quota", Bob, "500M"), 0, $"quota of {Bob} set to 500M");
        CliAssert.Expect(await cli.RunAsync("domain", "quota", "FAMILY.example", "2G"), 0, "default quota of family.example set to 2G");
        CliAssert.Refused(await cli.RunAsync("mailbox", "quota", Bob, "5MB"), 2,
            "error: invalid size '5MB': expected bytes or a number with K, M, G or T (e.g. 500M, 2G), or none");
        CliAssert.Refused(await cli.RunAsync("domain", "quota", "family.example", "-1"), 2, null);
        CliAssert.Refused(await cli.RunAsync("mailbox", "quota", "nobody@family.example", "1M"), 1, "error: mailbox nobody@family.example does not exist");

        using (var listed = JsonDocument.Parse((await cli.RunAsync("mailbox", "list", "--json")).Stdout))
        {
            var byAddress = listed.RootElement.EnumerateArray().ToDictionary(m => m.GetProperty("address").GetString()!);
            Assert.Multiple(() =>
            {
                Assert.That(byAddress[Bob].GetProperty("quotaBytes").GetInt64(), Is.EqualTo(500L << 20));
                Assert.That(byAddress[Bob].GetProperty("quotaSource").GetString(), Is.EqualTo("mailbox"));
                Assert.That(byAddress[Anna].GetProperty("quotaBytes").GetInt64(), Is.EqualTo(2L << 30));
                Assert.That(byAddress[Anna].GetProperty("quotaSource").GetString(), Is.EqualTo("domain"));
                Assert.That(byAddress[Anna].GetProperty("usedBytes").ValueKind, Is.EqualTo(JsonValueKind.Number));
            });
        }
        Assert.That((await cli.RunAsync("mailbox", "list")).Stdout, Does.Contain($"{Bob}\tdisabled (left)\tARGON2ID\t0/500M (0%)\t{System.Net.Dns.GetHostName().ToLowerInvariant()}\n"));
        CliAssert.Expect(await cli.RunAsync("mailbox", "quota", Bob, "none"), 0, $"quota of {Bob} set to none");
        CliAssert.Expect(await cli.RunAsync("domain", "quota", "family.example", "none"), 0, "default quota of family.example set to none");
        Assert.That((await cli.RunAsync("audit", "list")).Stdout, Does.Contain("mailbox.quota-changed").And.Contain("domain.quota-changed"));
    }

    [Test]
    public async Task AMailboxOverItsQuotaRefusesLmtpAppendAndCopyButNotMove()
    {
        CliAssert.Expect(await _lmtp.Cli.RunAsync("mailbox", "quota", Julie, "20K"), 0, $"quota of {Julie} set to 20K");

        // LMTP: one reply per recipient; only the one over its quota is refused, for good (RFC 3463 X.2.2).
        await using (var lmtp = await _lmtp.ConnectAsync())
        {
            Assert.That(await DeliverAsync(lmtp, Message("small", Small), Julie), Has.All.StartWith("250 2.0.0"));
            var replies = await DeliverAsync(lmtp, Message("big", Big), Julie, Anna);
            Assert.That(replies[0], Is.EqualTo($"552 5.2.2 <{Julie}> Mailbox full: over its storage quota"));
            Assert.That(replies[1], Does.StartWith($"250 2.0.0 <{Anna}>"));
        }

        // MailKit: the quota as a client shows it (STORAGE in KiB), and an APPEND over it refused.
        using (var client = await MailKitClients.ImapAsync(_lmtp.Server, Julie, Password))
        {
            Assert.That(client.Capabilities.HasFlag(ImapCapabilities.Quota), Is.True);
            var inbox = client.Inbox;
            await inbox.OpenAsync(FolderAccess.ReadWrite);
            var quota = await inbox.GetQuotaAsync();
            Assert.That((quota.CurrentStorageSize, quota.StorageLimit), Is.EqualTo(((uint?)((UsedBytes(Julie) + 1023) / 1024), (uint?)20)));
            var refused = Assert.ThrowsAsync<ImapCommandException>(() => inbox.AppendAsync(MimeMessage.Load(new MemoryStream(Message("append", Big)))));
            Assert.That(refused!.Message, Does.Contain("quota"));
            Assert.That(inbox.Count, Is.EqualTo(1));
            await client.DisconnectAsync(true);
        }
        Assert.That(Directory.GetFiles(Path.Combine(MailboxPath(Julie), "tmp")), Is.Empty, "no partial file left");

        // A raw transcript: the synchronising literal is refused before it is invited.
        await using (var imap = await ImapTestClient.ConnectAsync(_lmtp.Server))
        {
            Assert.That((await imap.CommandAsync("a", $"LOGIN {Julie} {Password}"))[^1], Does.StartWith("a OK"));
            var used = (UsedBytes(Julie) + 1023) / 1024;
            Assert.That(await imap.CommandAsync("b", $"APPEND INBOX {{{Big}}}"), Is.EqualTo(new[] { "b NO [OVERQUOTA] Over the mailbox's storage quota" }));
            Assert.That(await imap.CommandAsync("c", "GETQUOTAROOT INBOX"),
                Is.EqualTo(new[] { "* QUOTAROOT INBOX \"\"", $"* QUOTA \"\" (STORAGE {used} 20)", "c OK GETQUOTAROOT completed" }));
            Assert.That(await imap.CommandAsync("d", "GETQUOTA \"\""), Is.EqualTo(new[] { $"* QUOTA \"\" (STORAGE {used} 20)", "d OK GETQUOTA completed" }));
            Assert.That(await imap.CommandAsync("e", "GETQUOTA \"other\""), Is.EqualTo(new[] { "e NO [NONEXISTENT] No such quota root" }));
            Assert.That(await imap.CommandAsync("f", "SETQUOTA \"\" (STORAGE 100000)"), Is.EqualTo(new[] { "f NO [NOPERM] Quotas are set by the administrator" }));
            Assert.That((await imap.CommandAsync("g", "SELECT INBOX"))[^1], Does.StartWith("g OK"));
            Assert.That((await imap.CommandAsync("h", "COPY 1 Trash"))[^1], Does.StartWith("h OK [COPYUID "));
            Assert.That(await imap.CommandAsync("i", "COPY 1 Trash"), Is.EqualTo(new[] { "i NO [OVERQUOTA] Over the mailbox's storage quota" }));
            Assert.That((await imap.CommandAsync("j", "MOVE 1 Archive"))[^1], Does.StartWith("j OK"), "a MOVE leaves the usage as it is");
            Assert.That(await imap.CommandAsync("k", "LOGOUT"), Has.Member("k OK LOGOUT completed"));
        }

        // Another program removes the copy in Trash: the next look at the folder counts it gone.
        await using (var lmtp = await _lmtp.ConnectAsync())
        {
            Assert.That(await DeliverAsync(lmtp, Message("refused", Small), Julie), Has.All.StartWith("552 5.2.2"));
            File.Delete(Directory.GetFiles(Path.Combine(MailboxPath(Julie), ".Trash", "cur")).Single());
            Assert.That(await DeliverAsync(lmtp, Message("after", Small), Julie), Has.All.StartWith("250 2.0.0"));
        }

        using var listed = JsonDocument.Parse((await _lmtp.Cli.RunAsync("mailbox", "list", "--json")).Stdout);
        var julie = listed.RootElement.EnumerateArray().Single(m => m.GetProperty("address").GetString() == Julie);
        Assert.That((julie.GetProperty("quotaBytes").GetInt64(), julie.GetProperty("usedBytes").GetInt64()), Is.EqualTo((20L << 10, UsedBytes(Julie))));
    }

    private static byte[] Message(string subject, int size)
    {
        var text = new StringBuilder($"From: <a@b.example>\r\nSubject: {subject}\r\n\r\n");
        while (text.Length < size)
        {
            text.Append(new string('x', 78)).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>One LMTP transaction; the replies after DATA, one per recipient.</summary>
    private static async Task<List<string>> DeliverAsync(LineConnection lmtp, byte[] message, params string[] recipients)
    {
        await lmtp.SendAsync("LHLO mx.example\r\nMAIL FROM:<a@b.example>\r\n" + string.Concat(recipients.Select(r => $"RCPT TO:<{r}>\r\n")) + "DATA\r\n");
        var setup = await lmtp.ReadLinesAsync(7 + recipients.Length + 1);
        Assert.That(setup[^1], Does.StartWith("354 "), string.Join('\n', setup));
        await lmtp.SendAsync([.. message, .. "\r\n.\r\n"u8.ToArray()]);
        return await lmtp.ReadLinesAsync(recipients.Length);
    }

    private string MailboxPath(string address) =>
        Path.Combine(_lmtp.Cli.DataDirectory, "mail", address[(address.IndexOf('@', StringComparison.Ordinal) + 1)..], address[..address.IndexOf('@', StringComparison.Ordinal)]);

    /// <summary>The bytes of every message file of the mailbox, every folder, as on disk.</summary>
    private long UsedBytes(string address) =>
        Directory.EnumerateDirectories(MailboxPath(address), "*", SearchOption.AllDirectories)
            .Where(d => Path.GetFileName(d) is "cur" or "new")
            .Sum(d => new DirectoryInfo(d).EnumerateFiles().Sum(f => f.Length));
}
