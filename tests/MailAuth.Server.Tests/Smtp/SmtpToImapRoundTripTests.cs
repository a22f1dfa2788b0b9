using System.Diagnostics;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>
/// The whole path with real client libraries: Python's smtplib submits as one mailbox, Python's
/// imaplib reads the message back as the recipient, byte for byte.
/// </summary>
[TestFixture]
[Category("External")]
public sealed class SmtpToImapRoundTripTests
{
    private const string Script = """
        import imaplib, smtplib, ssl, sys
        smtp_port, imap_port, cafile, sender, sender_password, recipient, recipient_password, message_file, fetched_file = sys.argv[1:10]
        context = ssl.create_default_context(cafile=cafile)
        smtp = smtplib.SMTP("127.0.0.1", int(smtp_port))
        smtp.starttls(context=context)
        smtp.login(sender, sender_password)
        with open(message_file, "rb") as f:
            refused = smtp.sendmail(sender, [recipient], f.read(), mail_options=["BODY=8BITMIME"])
        assert not refused, refused
        smtp.quit()
        imap = imaplib.IMAP4_SSL("127.0.0.1", int(imap_port), ssl_context=context)
        imap.login(recipient, recipient_password)
        imap.select("INBOX")
        typ, data = imap.fetch("1", "(BODY.PEEK[])")
        assert typ == "OK", (typ, data)
        with open(fetched_file, "wb") as f:
            f.write(data[0][1])
        imap.logout()
        """;

    [Test]
    public async Task SubmittedBySmtplibFetchedByImaplib()
    {
        await using var server = await SmtpTestServer.StartAsync(withImap: true);
        var work = Path.Combine(server.Cli.WorkingDirectory, "roundtrip");
        Directory.CreateDirectory(work);
        var token = SmtpTestServer.Token();
        var message = SmtpTestServer.Message(token);
        await File.WriteAllTextAsync(Path.Combine(work, "roundtrip.py"), Script);
        await File.WriteAllBytesAsync(Path.Combine(work, "message.eml"), message);

        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            Path.Combine(work, "roundtrip.py"),
            server.SubmissionPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            server.ImapsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            SmtpTestServer.CertificateFile(server),
            SmtpTestServer.Julie, SmtpTestServer.JuliePassword, SmtpTestServer.Anna, SmtpTestServer.AnnaPassword,
            Path.Combine(work, "message.eml"), Path.Combine(work, "fetched.eml"),
        })
        {
            start.ArgumentList.Add(arg);
        }
        using var python = Process.Start(start)!;
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = python.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await python.WaitForExitAsync(timeout.Token);
        Assert.That(python.ExitCode, Is.Zero, $"{await stdout}\n{await stderr}");

        var (received, fetched) = SmtpTestServer.SplitReceived(await File.ReadAllBytesAsync(Path.Combine(work, "fetched.eml")));
        Assert.That(fetched, Is.EqualTo(message), "what imaplib fetched is what smtplib sent, apart from our Received header");
        Assert.That(received, Does.Contain("(authenticated as julie@family.example)"));
    }
}
