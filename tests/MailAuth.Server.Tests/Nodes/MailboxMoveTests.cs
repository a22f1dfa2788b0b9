using System.Diagnostics;
using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Lmtp;
using MailKit;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Nodes;

/// <summary>
/// <c>mailbox move</c> on one machine: node A is a real <c>serve</c> (LMTP, IMAP) on one data
/// directory, node B's data directory is another, served afterwards by a second <c>serve</c>.
/// </summary>
[TestFixture]
public sealed class MailboxMoveTests
{
    private const string Julie = LmtpServer.Julie;
    private const string Anna = LmtpServer.Anna;
    private const string Password = LmtpServer.Password;

    [Test]
    public async Task ADeliveryDuringTheMoveIsDeferredAndNodeBServesTheMessagesWithTheirUidsAndFlags()
    {
        var a = new MailAuthProcess();
        a.Environment["MailAuth__NodeName"] = "node-a";
        a.Environment["MailAuth__Nodes__node-b__Address"] = "127.0.0.1";
        await using var lmtp = await LmtpServer.StartAsync(cli: a);
        using var b = new MailAuthProcess();
        b.Environment["MailAuth__NodeName"] = "node-b";
        b.Environment["MailAuth__Nodes__node-a__Address"] = "127.0.0.1";
        // Node B here has a store of its own (SQLite lives in the data directory): its rows only let
        // IMAP log in there; what is checked is the Maildir the move put in its data directory.
        Expect(await b.RunAsync("domain", "add", "family.example"), 0, "domain family.example added");
        Expect(await b.RunWithInputAsync(Password + "\n", "mailbox", "add", Julie), 0, $"mailbox {Julie} added");

        foreach (var (to, subject) in new[] { (Julie, "first"), (Julie, "second"), (Anna, "for anna") })
        {
            Assert.That(await DeliverAsync(lmtp, to, subject), Does.StartWith("250 2.0.0 "));
        }
        uint validity;
        IList<IMessageSummary> before;
        using (var imap = await MailKitClients.ImapAsync(lmtp.Server, Julie, Password))
        {
            await imap.Inbox.OpenAsync(FolderAccess.ReadWrite);
            await imap.Inbox.AddFlagsAsync(0, MessageFlags.Flagged, silent: true);
            validity = imap.Inbox.UidValidity;
            before = await imap.Inbox.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Flags);
            await imap.DisconnectAsync(true);
        }

        Refused(await a.RunAsync("mailbox", "move", Julie, "--node", "node-c"), 2,
            "error: node node-c is neither this node (node-a) nor listed in MailAuth:Nodes (see 'node list')");
        Refused(await a.RunAsync("mailbox", "move", "nobody@family.example", "--node", "node-b"), 2,
            "error: mailbox nobody@family.example does not exist");

        // The move without a path to node B: marked, set aside, the copy left to the operator.
        var begun = await a.RunAsync("mailbox", "move", Julie, "--node", "node-b");
        Assert.That(begun.ExitCode, Is.Zero, begun.ToString());
        var aside = begun.Stdout.Split('\n')[1].Split(" is set aside at ")[1].Split(';')[0];
        Assert.That(begun.Stdout, Does.StartWith(
            $"mailbox {Julie} is moving to node node-b: deliveries to it get a temporary failure (the MTA retries) until the move ends\n"
            + "its Maildir (2 message(s), "));
        Assert.That(aside, Does.StartWith(Path.Combine(a.DataDirectory, "moved", "family.example", "julie.")));
        Assert.That(begun.Stdout, Does.EndWith($"then on node node-b: mailauth mailbox move {Julie} --node node-b --finish\n"));

        Assert.That(await DeliverAsync(lmtp, Julie, "during the move"), Does.StartWith("452 4.3.1 "), "a temporary failure: the MTA keeps it");
        Assert.That(MessageFiles(Path.Combine(a.DataDirectory, "mail", "family.example", "julie")), Is.Empty, "nothing stored at the old place");
        Assert.That(MessageFiles(aside), Has.Count.EqualTo(2), "nor in the Maildir being moved");
        Assert.That(await DeliverAsync(lmtp, Anna, "anna is not moving"), Does.StartWith("250 2.0.0 "));

        var julieAtB = Path.Combine(b.DataDirectory, "mail", "family.example", "julie");
        var early = await a.RunAsync("mailbox", "move", Julie, "--node", "node-b", "--finish", "--to-data-dir", b.DataDirectory);
        Assert.That(early.ExitCode, Is.EqualTo(1), early.ToString());
        Assert.That(early.Stderr, Does.StartWith($"error: the copy at {julieAtB} holds 0 message(s), 0 bytes, the Maildir held 2 message(s), "));
        Assert.That(early.Stderr, Does.EndWith($"; mailbox {Julie} stays marked moving\n"));

        // The operator's copy (rsync -a between machines).
        Directory.CreateDirectory(julieAtB);
        await RunAsync("cp", "-a", aside + "/.", julieAtB);
        var finished = await a.RunAsync("mailbox", "move", Julie, "--node", "node-b", "--finish", "--to-data-dir", b.DataDirectory);
        Assert.That(finished.ExitCode, Is.Zero, finished.ToString());
        Assert.That(finished.Stdout, Does.Match($"^mailbox {Julie} moved to node node-b: 2 message\\(s\\), [0-9]+ bytes at {julieAtB}, checked\n$"));
        Refused(await a.RunAsync("mailbox", "move", Julie, "--node", "node-b", "--finish"), 1, $"error: mailbox {Julie} is not being moved to node node-b");

        // The move in one step, when this machine reaches node B's data directory.
        var annaAtB = Path.Combine(b.DataDirectory, "mail", "family.example", "anna");
        var moved = await a.RunAsync("mailbox", "move", Anna, "--node", "node-b", "--to-data-dir", b.DataDirectory);
        Assert.That(moved.ExitCode, Is.Zero, moved.ToString());
        Assert.That(moved.Stdout, Does.Match(
            $"^mailbox {Anna} moved to node node-b: 2 message\\(s\\), [0-9]+ bytes copied to {annaAtB} and checked\n"
            + $"the old Maildir is left at {a.DataDirectory}/moved/family.example/anna\\.[0-9TZ]+: remove it when you no longer need it\n$"));
        Assert.That(MessageFiles(annaAtB), Has.Count.EqualTo(2));
        Refused(await a.RunAsync("mailbox", "move", Anna, "--node", "node-b"), 1, $"error: mailbox {Anna} already lives on node node-b");

        Assert.That((await a.RunAsync("mailbox", "list")).Stdout, Does.Contain($"{Julie}\tenabled\tARGON2ID\t0/none\tnode-b\n")
            .And.Contain($"{Anna}\tenabled\tARGON2ID\t0/none\tnode-b\n"));
        var audit = (await a.RunAsync("audit", "list")).Stdout;
        Assert.That(audit, Does.Contain("mailbox.moving").And.Contain("mailbox.moved").And.Contain("to node node-b from node-a: 2 message(s), "));

        // Node B serves the copy: the same UIDVALIDITY, UIDs and flags.
        await using var nodeB = await RunningServer.StartAsync(existing: b);
        using var atB = await MailKitClients.ImapAsync(nodeB, Julie, Password);
        await atB.Inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.That(atB.Inbox.UidValidity, Is.EqualTo(validity));
        var after = await atB.Inbox.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Flags);
        // \Recent is per session (RFC 3501 §2.3.2): the first session on node B sees the messages as recent.
        static List<string> Listed(IList<IMessageSummary> messages) => [.. messages.Select(m => $"{m.UniqueId} {m.Flags & ~MessageFlags.Recent}")];
        Assert.That(Listed(after), Is.EqualTo(Listed(before)));
        Assert.That(Listed(after)[0], Does.EndWith(" Flagged"));
    }

    private static async Task<string> DeliverAsync(LmtpServer lmtp, string to, string subject)
    {
        await using var client = await lmtp.ConnectAsync();
        await client.SendAsync($"LHLO mx.example\r\nMAIL FROM:<sender@elsewhere.example>\r\nRCPT TO:<{to}>\r\nDATA\r\n");
        var replies = await client.ReadLinesAsync(9);
        Assert.That(replies[^1], Does.StartWith("354 "), string.Join("\n", replies));
        await client.SendAsync($"Subject: {subject}\r\n\r\nhello\r\n.\r\n");
        return await client.ReadLineAsync() ?? "(closed)";
    }

    private static List<string> MessageFiles(string root) =>
        Directory.Exists(root)
            ? [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) is "cur" or "new")]
            : [];

    private static async Task RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, error);
    }
}
