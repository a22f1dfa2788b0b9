using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>curl, a real IMAP client, over implicit TLS and STARTTLS with each way of logging in.</summary>
[TestFixture]
[Category("External")]
public sealed class ImapCurlTests
{
    private const string Address = "anna@family.example";
    private const string Password = "Curl-pass 7";
    private RunningServer _server = null!;
    private byte[] _message = [];
    private string _delivered = "";

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", Address)).ExitCode, Is.Zero);
        // Bytes a client might mangle: 8-bit text, a lone LF, trailing spaces, no final line break.
        _message = Encoding.UTF8.GetBytes(
            "From: Julie <julie@family.example>\r\nTo: anna@family.example\r\nSubject: Bonjour\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n\r\nÇa va ? \r\nline with LF only\nlast line   ");
        _delivered = await ExternalClient.DeliverAsync(_server, Address, _message);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private Task<ToolResult> Curl(string url, params string[] extra) =>
        ExternalClient.RunAsync("curl", [
            "--silent", "--show-error", "--verbose", "--max-time", "30",
            "--cacert", ExternalClient.CertificatePath(_server), "--user", $"{Address}:{Password}", .. extra, url,
        ]);

    // curl 7.88 always prefers SASL when AUTH= is advertised ("AUTH=+LOGIN" came later), so the
    // LOGIN command is exercised with Python's imaplib and in the raw transcripts instead.
    [Test]
    public async Task ImplicitTlsWithSaslIrListsFolders()
    {
        var result = await Curl($"imaps://127.0.0.1:{_server.ImapsPort}/");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stderr, Does.Contain("> A002 AUTHENTICATE PLAIN "), result.ToString());
        Assert.That(result.Stdout, Does.Contain("* LIST (\\HasNoChildren) \".\" INBOX"));
        Assert.That(result.Stdout, Does.Contain("* LIST (\\HasNoChildren \\Sent) \".\" Sent"));
        Assert.That(result.Stdout, Does.Contain("* LIST (\\HasNoChildren \\Trash) \".\" Trash"));
    }

    [Test]
    public async Task StarttlsWithAuthenticatePlainFetchesTheDeliveredMessageByteIdentical()
    {
        var output = Path.GetTempFileName();
        try
        {
            var result = await Curl($"imap://127.0.0.1:{_server.ImapPort}/INBOX;UID=1", "--ssl-reqd", "--login-options", "AUTH=PLAIN", "--output", output);
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Stderr, Does.Contain("> A002 STARTTLS"), result.ToString());
            Assert.That(result.Stderr, Does.Contain("AUTHENTICATE PLAIN"), result.ToString());
            Assert.That(await File.ReadAllBytesAsync(output), Is.EqualTo(_message));
            Assert.That(await File.ReadAllBytesAsync(ExternalClient.CurrentPath(_delivered)), Is.EqualTo(_message));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Test]
    public async Task ImplicitTlsWithAuthenticateLoginFetchesASection()
    {
        var result = await Curl($"imaps://127.0.0.1:{_server.ImapsPort}/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)", "--login-options", "AUTH=LOGIN");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stderr, Does.Contain("AUTHENTICATE LOGIN"), result.ToString());
        Assert.That(result.Stdout, Is.EqualTo("Subject: Bonjour\r\n\r\n"));
    }

    [Test]
    public async Task CustomCommandsSearchAndFetchFlags()
    {
        var search = await Curl($"imaps://127.0.0.1:{_server.ImapsPort}/INBOX", "--request", "SEARCH SUBJECT bonjour");
        Assert.That(search.ExitCode, Is.Zero, search.ToString());
        Assert.That(search.Stdout, Is.EqualTo("* SEARCH 1\r\n"));
        var fetch = await Curl($"imap://127.0.0.1:{_server.ImapPort}/INBOX", "--ssl-reqd", "--request", "FETCH 1 (UID RFC822.SIZE)");
        Assert.That(fetch.ExitCode, Is.Zero, fetch.ToString());
        Assert.That(fetch.Stdout, Is.EqualTo($"* 1 FETCH (UID 1 RFC822.SIZE {_message.Length})\r\n"));
    }

    [Test]
    public async Task WrongPasswordFailsTheTransfer()
    {
        var result = await ExternalClient.RunAsync("curl", "--silent", "--max-time", "30", "--cacert", ExternalClient.CertificatePath(_server),
            "--user", $"{Address}:wrong", $"imaps://127.0.0.1:{_server.ImapsPort}/");
        Assert.That(result.ExitCode, Is.EqualTo(67), result.ToString()); // CURLE_LOGIN_DENIED
    }
}
