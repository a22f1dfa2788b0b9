using System.Text;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Imap;

/// <summary>Fresh mailboxes on one running server for the keyword, CONDSTORE and QRESYNC transcripts.</summary>
internal sealed partial class FlagTestMailboxes(RunningServer server)
{
    public const string Password = "flags-pass 7";
    private static int _next;

    public RunningServer Server => server;

    public static async Task<FlagTestMailboxes> StartAsync()
    {
        var server = await RunningServer.StartAsync();
        Assert.That((await server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        return new FlagTestMailboxes(server);
    }

    public async Task<string> NewMailbox()
    {
        var address = $"flags{Interlocked.Increment(ref _next)}@family.example";
        Assert.That((await server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
        return address;
    }

    /// <summary>The INBOX directory of a mailbox (Maildir++: other folders are <c>.Name</c> inside it).</summary>
    public string InboxPath(string address)
    {
        var at = address.IndexOf('@', StringComparison.Ordinal);
        return Path.Combine(server.Cli.DataDirectory, "mail", address[(at + 1)..], address[..at]);
    }

    public async Task<ImapTestClient> Login(string address, string? select = "INBOX")
    {
        var client = await ImapTestClient.ConnectAsync(server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        if (select is not null)
        {
            Assert.That((await client.CommandAsync("s", $"SELECT {select}"))[^1], Is.EqualTo("s OK [READ-WRITE] SELECT completed"));
        }
        return client;
    }

    /// <summary>APPEND with a non-synchronising literal (LITERAL+); returns the tagged line.</summary>
    public static async Task<string> Append(ImapTestClient client, string folder, string subject, string flags = "")
    {
        var message = Encoding.UTF8.GetBytes($"From: anna@family.example\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n");
        var flagList = flags.Length == 0 ? "" : $"({flags}) ";
        await client.SendAsync($"ap APPEND {folder} {flagList}{{{message.Length}+}}\r\n");
        await client.SendAsync([.. message, .. "\r\n"u8]);
        return (await client.ReadUntilTaggedAsync("ap"))[^1];
    }

    public static uint UidValidity(IEnumerable<string> selectResponse) =>
        uint.Parse(UidValidityPattern().Match(string.Join('\n', selectResponse)).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"UIDVALIDITY (\d+)")]
    private static partial Regex UidValidityPattern();
}
