using System.Diagnostics;
using System.Net;
using System.Net.Mail;
using System.Text;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>
/// Real mail clients submit through the real server (Python's smtplib, curl, .NET's SmtpClient);
/// the message is then read back from the recipient's Maildir and must be byte-identical to what
/// was sent, apart from the Received header we add.
/// </summary>
[TestFixture]
public sealed class SmtpRealClientTests
{
    private const string PythonClient = """
        import smtplib, ssl, sys
        mode, mechanism, port, cafile, user, password, sender, recipient, path = sys.argv[1:]
        context = ssl.create_default_context(cafile=cafile)
        if mode == "ssl":
            client = smtplib.SMTP_SSL("127.0.0.1", int(port), context=context)
        else:
            client = smtplib.SMTP("127.0.0.1", int(port))
            client.ehlo()
            client.starttls(context=context)
        client.ehlo()
        client.user, client.password = user, password
        if mechanism == "PLAIN":
            code, _ = client.auth("PLAIN", client.auth_plain)
        else:
            # No initial response: the server prompts "Username:" then "Password:".
            code, _ = client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        assert code == 235, code
        with open(path, "rb") as f:
            message = f.read()
        refused = client.sendmail(sender, [recipient], message, mail_options=["BODY=8BITMIME"])
        assert not refused, refused
        client.quit()
        print("sent")
        """;

    private RunningServer _server = null!;
    private string _work = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await SmtpTestServer.StartAsync();
        _work = Path.Combine(_server.Cli.WorkingDirectory, "clients");
        Directory.CreateDirectory(_work);
        await File.WriteAllTextAsync(Path.Combine(_work, "client.py"), PythonClient);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Category("External")]
    [TestCase("starttls", "PLAIN")]
    [TestCase("starttls", "LOGIN")]
    [TestCase("ssl", "PLAIN")]
    [TestCase("ssl", "LOGIN")]
    public async Task PythonSmtplib(string mode, string mechanism)
    {
        var token = SmtpTestServer.Token();
        var message = SmtpTestServer.Message(token);
        var file = await WriteMessageAsync(token, message);
        var port = mode == "ssl" ? _server.SubmissionsPort : _server.SubmissionPort;
        var result = await RunAsync("python3", Path.Combine(_work, "client.py"), mode, mechanism, port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            SmtpTestServer.CertificateFile(_server), SmtpTestServer.Julie, SmtpTestServer.JuliePassword, SmtpTestServer.Julie, SmtpTestServer.Anna, file);
        Assert.That(result, Does.Contain("sent"));
        AssertDeliveredExactly(token, message);
    }

    [Category("External")]
    [TestCase("smtp", "PLAIN")]
    [TestCase("smtp", "LOGIN")]
    [TestCase("smtps", "PLAIN")]
    public async Task Curl(string scheme, string mechanism)
    {
        var token = SmtpTestServer.Token();
        var message = SmtpTestServer.Message(token);
        var file = await WriteMessageAsync(token, message);
        var port = scheme == "smtps" ? _server.SubmissionsPort : _server.SubmissionPort;
        await RunAsync("curl", "--silent", "--show-error", "--fail", "--ssl-reqd",
            $"{scheme}://127.0.0.1:{port}", "--cacert", SmtpTestServer.CertificateFile(_server),
            "--login-options", "AUTH=" + mechanism,
            "-u", $"{SmtpTestServer.Julie}:{SmtpTestServer.JuliePassword}",
            "--mail-from", SmtpTestServer.Julie, "--mail-rcpt", SmtpTestServer.Anna, "--upload-file", file);
        AssertDeliveredExactly(token, message);
    }

    [Category("External")]
    [Test]
    public async Task CurlLargeMessageStreamsThroughExactly()
    {
        // About 3 MiB: many spool and pipe buffers, with dot-stuffed lines across every boundary.
        var token = SmtpTestServer.Token();
        var body = new StringBuilder();
        for (var i = 0; i < 60_000; i++)
        {
            body.Append(i % 3 == 0 ? "." : "").Append("line ").Append(i).Append(" Grüße ✓ ").Append('x', i % 40).Append("\r\n");
        }
        var message = SmtpTestServer.Message(token).Concat(Encoding.UTF8.GetBytes(body.ToString())).ToArray();
        var file = await WriteMessageAsync(token, message);
        await RunAsync("curl", "--silent", "--show-error", "--fail", "--ssl-reqd",
            $"smtps://127.0.0.1:{_server.SubmissionsPort}", "--cacert", SmtpTestServer.CertificateFile(_server),
            "-u", $"{SmtpTestServer.Julie}:{SmtpTestServer.JuliePassword}",
            "--mail-from", SmtpTestServer.Julie, "--mail-rcpt", SmtpTestServer.Anna, "--upload-file", file);
        AssertDeliveredExactly(token, message);
    }

    [Test]
    public async Task DotNetSmtpClient()
    {
        var token = SmtpTestServer.Token();
        using var mail = new MailMessage(SmtpTestServer.Julie, SmtpTestServer.Anna)
        {
            Subject = "test " + token,
            Body = ".leading dot\r\n..two dots\r\n.\r\nGrüße ✓ 日本語\r\n",
            BodyEncoding = Encoding.UTF8,
            BodyTransferEncoding = System.Net.Mime.TransferEncoding.EightBit,
        };
        mail.Headers.Add("Date", "Sun, 22 Nov 2026 02:30:00 +0000");
        mail.Headers.Add("Message-ID", $"<{token}@family.example>");

        // What SmtpClient writes for this message, captured without the network: its pickup
        // directory gets the same bytes it sends after DATA (plus its X-Sender/X-Receiver lines).
        var pickup = Path.Combine(_work, "pickup-" + token);
        Directory.CreateDirectory(pickup);
#pragma warning disable CS0618, SYSLIB0014 // SmtpClient is marked obsolete in favour of MailKit, which is not served here; it is still a real, widely deployed client, which is what this test needs.
        using (var capture = new SmtpClient { DeliveryMethod = SmtpDeliveryMethod.SpecifiedPickupDirectory, PickupDirectoryLocation = pickup })
        {
            await capture.SendMailAsync(mail);
        }

        var expected = X509CertificateLoader(SmtpTestServer.CertificateFile(_server));
        ServicePointManager.ServerCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == expected;
        try
        {
            using var client = new SmtpClient("127.0.0.1", _server.SubmissionPort)
            {
                EnableSsl = true, // STARTTLS
                DeliveryMethod = SmtpDeliveryMethod.Network,
                Credentials = new NetworkCredential(SmtpTestServer.Julie, SmtpTestServer.JuliePassword),
            };
            await client.SendMailAsync(mail);
        }
        finally
        {
            ServicePointManager.ServerCertificateValidationCallback = null;
        }
#pragma warning restore CS0618, SYSLIB0014

        var captured = Encoding.UTF8.GetString(File.ReadAllBytes(Directory.GetFiles(pickup).Single()));
        // Drop the pickup-only envelope lines that precede the message.
        var sent = string.Join("\r\n", captured.Split("\r\n").SkipWhile(line => line.StartsWith("X-Sender:", StringComparison.Ordinal) || line.StartsWith("X-Receiver:", StringComparison.Ordinal)));
        Assert.That(sent, Does.Contain("Grüße ✓ 日本語"), "SmtpClient sent the body as 8-bit UTF-8");
        // SmtpClient stamps Date: with the time it writes the message, so under load the captured copy
        // and the sent one can be a second apart: compare the rest byte for byte.
        var delivered = SmtpTestServer.Delivered(_server, "anna", token);
        if (delivered.Count == 1)
        {
            var deliveredDate = Regex.Match(Encoding.UTF8.GetString(SmtpTestServer.SplitReceived(delivered[0]).Message), "^Date: [^\r\n]+", RegexOptions.Multiline).Value;
            Assert.That(deliveredDate, Does.Match(@"^Date: (\w{3}, )?\d{1,2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"));
            sent = Regex.Replace(sent, "^Date: [^\r\n]+", deliveredDate, RegexOptions.Multiline);
        }
        // Over the network SmtpClient ends DATA with CRLF "." CRLF after those bytes (its
        // DataStopCommand); that first CRLF belongs to the message (RFC 5321 §4.1.1.4).
        AssertDeliveredExactly(token, Encoding.UTF8.GetBytes(sent + "\r\n"));
    }

    private static string X509CertificateLoader(string pemFile) =>
        System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(pemFile)).GetCertHashString();

    private void AssertDeliveredExactly(string token, byte[] sent)
    {
        var delivered = SmtpTestServer.Delivered(_server, "anna", token);
        Assert.That(delivered, Has.Count.EqualTo(1), "exactly one copy in anna's INBOX new/");
        var (received, message) = SmtpTestServer.SplitReceived(delivered[0]);
        Assert.Multiple(() =>
        {
            Assert.That(Encoding.UTF8.GetString(message), Is.EqualTo(Encoding.UTF8.GetString(sent)));
            Assert.That(message, Is.EqualTo(sent), "byte-identical apart from the Received header");
            Assert.That(received, Does.Match(@"^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby \S+ \(MailAuth\) with ESMTPSA \(TLSv1\.[23] \S+\)\r\n"));
            Assert.That(received, Does.Contain("\t(authenticated as julie@family.example)\r\n"));
            Assert.That(received, Does.Match(@"\tid [0-9A-F]{16}; \w{3}, \d{1,2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n$"));
        });
    }

    private async Task<string> WriteMessageAsync(string token, byte[] message)
    {
        var file = Path.Combine(_work, token + ".eml");
        await File.WriteAllBytesAsync(file, message);
        return file;
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.That(process.ExitCode, Is.Zero, $"{program} failed:\n{await stdout}\n{await stderr}");
        return await stdout;
    }
}
