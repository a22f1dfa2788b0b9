using System.Text;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>A running server provisioned with the mailboxes the SMTP tests use, and helpers to read what it delivered.</summary>
internal static class SmtpTestServer
{
    public const string Domain = "family.example";
    public const string Julie = "julie@family.example";
    public const string JuliePassword = "julie-Pw-1";
    public const string Anna = "anna@family.example";
    public const string AnnaPassword = "anna-Pw-2";

    /// <summary>A mailbox an admin disabled.</summary>
    public const string Gone = "gone@family.example";

    public static async Task<RunningServer> StartAsync(IDictionary<string, string>? settings = null, bool withImap = false)
    {
        // Most SMTP tests need no IMAP listener.
        var all = withImap ? [] : new Dictionary<string, string> { ["MailAuth__Imap__Port"] = "0", ["MailAuth__Imap__TlsPort"] = "0" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }
        var server = await RunningServer.StartAsync(all);
        try
        {
            await RunAsync(server, null, "domain", "add", Domain);
            await RunAsync(server, JuliePassword + "\n", "mailbox", "add", Julie);
            await RunAsync(server, AnnaPassword + "\n", "mailbox", "add", Anna);
            await RunAsync(server, "gone-Pw-3\n", "mailbox", "add", Gone);
            await RunAsync(server, null, "mailbox", "disable", Gone, "--reason", "left the family");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public static async Task RunAsync(RunningServer server, string? input, params string[] args)
    {
        var result = await server.Cli.RunWithInputAsync(input, args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"mailauth {string.Join(' ', args)} failed: {result}");
        }
    }

    public static string CertificateFile(RunningServer server) => Path.Combine(server.Cli.DataDirectory, "tls", "certificate.pem");

    public static string NewDirectory(RunningServer server, string localPart) =>
        Path.Combine(server.Cli.DataDirectory, "mail", Domain, localPart, "new");

    /// <summary>The delivered files in <paramref name="localPart"/>'s INBOX new/ that contain <paramref name="token"/>.</summary>
    public static List<byte[]> Delivered(RunningServer server, string localPart, string token)
    {
        var directory = NewDirectory(server, localPart);
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var needle = Encoding.UTF8.GetBytes(token);
        return [.. Directory.EnumerateFiles(directory)
            .Select(File.ReadAllBytes)
            .Where(bytes => bytes.AsSpan().IndexOf(needle) >= 0)];
    }

    /// <summary>Splits a stored message into our Received header (with its folded lines) and the rest.</summary>
    public static (string Received, byte[] Message) SplitReceived(byte[] stored)
    {
        var text = Encoding.Latin1.GetString(stored);
        Assert.That(text, Does.StartWith("Received: from "), "the stored message starts with our trace header");
        var end = 0;
        do
        {
            end = text.IndexOf("\r\n", end, StringComparison.Ordinal) + 2;
        }
        while (end < text.Length && text[end] == '\t');
        return (text[..end], stored[end..]);
    }

    /// <summary>
    /// A test message that exercises transparency and 8-bit transport: lines starting with ".",
    /// a line that is only ".", and UTF-8 text. <paramref name="token"/> makes it findable.
    /// </summary>
    public static byte[] Message(string token, string from = Julie, string to = Anna) => Encoding.UTF8.GetBytes(
        $"From: Julie <{from}>\r\n" +
        $"To: <{to}>\r\n" +
        $"Subject: test {token}\r\n" +
        $"Message-ID: <{token}@family.example>\r\n" +
        "Date: Sun, 22 Nov 2026 02:30:00 +0000\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "\r\n" +
        ".leading dot\r\n" +
        "..two leading dots\r\n" +
        ".\r\n" +
        "Grüße aus Köln, ça va ? ✓ 日本語\r\n" +
        "last line\r\n");

    public static string Token() => "t" + Guid.NewGuid().ToString("N")[..12];
}
