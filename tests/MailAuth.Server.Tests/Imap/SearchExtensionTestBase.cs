namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// A running server and a fresh mailbox per test, filled by APPEND with chosen internal dates,
/// for the ESEARCH, SORT, THREAD and search-context transcripts.
/// </summary>
public abstract class SearchExtensionTestBase
{
    private const string Password = "search-pass 7";
    private RunningServer _server = null!;
    private int _next;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    /// <summary>A new mailbox holding <paramref name="messages"/> (internal date, text) in this order, INBOX selected.</summary>
    private protected async Task<ImapTestClient> MailboxWith(params (string InternalDate, string Text)[] messages)
    {
        var address = $"{GetType().Name.ToLowerInvariant()}{Interlocked.Increment(ref _next)}@family.example";
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
        var client = await LoginAsync(address);
        foreach (var (date, text) in messages)
        {
            await AppendAsync(client, date, text);
        }
        Assert.That((await client.CommandAsync("s", "SELECT INBOX"))[^1], Is.EqualTo("s OK [READ-WRITE] SELECT completed"));
        return client;
    }

    /// <summary>A second session on the mailbox of <paramref name="first"/>'s last login.</summary>
    private protected async Task<ImapTestClient> SecondSessionAsync()
    {
        var address = $"{GetType().Name.ToLowerInvariant()}{_next}@family.example";
        var client = await LoginAsync(address);
        Assert.That((await client.CommandAsync("s", "SELECT INBOX"))[^1], Is.EqualTo("s OK [READ-WRITE] SELECT completed"));
        return client;
    }

    private protected static async Task AppendAsync(ImapTestClient client, string internalDate, string text, string flags = "()")
    {
        var message = text.ReplaceLineEndings("\r\n");
        await client.SendAsync($"ap APPEND INBOX {flags} \"{internalDate}\" {{{System.Text.Encoding.UTF8.GetByteCount(message)}+}}\r\n{message}\r\n");
        Assert.That((await client.ReadUntilTaggedAsync("ap"))[^1], Does.StartWith("ap OK"));
    }

    private async Task<ImapTestClient> LoginAsync(string address)
    {
        var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        return client;
    }
}
