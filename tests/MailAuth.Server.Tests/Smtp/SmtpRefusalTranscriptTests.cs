using System.Text;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>Raw transcripts against the real server for every refusal and limit: exact replies, and whether the session goes on.</summary>
[TestFixture]
public sealed class SmtpRefusalTranscriptTests
{
    private const int MaxMessageSize = 2000;

    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await SmtpTestServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Smtp__MaxMessageSize"] = MaxMessageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Smtp__HostName"] = "mx.family.example",
        });
        await SmtpTestServer.RunAsync(_server, "full-Pw-4\n", "mailbox", "add", "full@family.example");
        await SmtpTestServer.RunAsync(_server, "juergen-Pw-5\n", "mailbox", "add", "jürgen@family.example");
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task GreetsAndAdvertisesExtensionsOnEachPort()
    {
        await using var plain = await SmtpTranscript.ConnectAsync(_server, implicitTls: false);
        Assert.That(plain.Greeting, Is.EqualTo("220 mx.family.example ESMTP MailAuth"));
        // Loopback is a trusted network by default, so AUTH is offered before TLS there.
        Assert.That(await plain.CommandAsync("EHLO client.example"), Is.EqualTo(
            "250-mx.family.example Hello client.example [127.0.0.1]\n250-PIPELINING\n250-SIZE 2000\n250-8BITMIME\n" +
            "250-ENHANCEDSTATUSCODES\n250-SMTPUTF8\n250-STARTTLS\n250-AUTH PLAIN LOGIN\n250 HELP"));
        await plain.StartTlsAsync();
        Assert.That(await plain.CommandAsync("EHLO client.example"), Is.EqualTo(
            "250-mx.family.example Hello client.example [127.0.0.1]\n250-PIPELINING\n250-SIZE 2000\n250-8BITMIME\n" +
            "250-ENHANCEDSTATUSCODES\n250-SMTPUTF8\n250-AUTH PLAIN LOGIN\n250 HELP"), "no STARTTLS once on TLS");
        Assert.That(await plain.CommandAsync("STARTTLS"), Is.EqualTo("503 5.5.1 TLS is already active"));

        await using var tls = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(tls.Greeting, Is.EqualTo("220 mx.family.example ESMTP MailAuth"));
        Assert.That(await tls.CommandAsync("HELO old.example"), Is.EqualTo("250 mx.family.example"));
        Assert.That(await tls.CommandAsync("VRFY julie@family.example"), Is.EqualTo("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery"));
        Assert.That(await tls.CommandAsync("VRFY nobody@family.example"), Is.EqualTo("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery"));
        Assert.That(await tls.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"));
        Assert.That(await tls.CommandAsync("HELP"), Does.StartWith("214-2.0.0 Commands:"));
        Assert.That(await tls.CommandAsync("FROB"), Is.EqualTo("500 5.5.1 Command unrecognized"));
        Assert.That(await tls.CommandAsync("QUIT"), Is.EqualTo("221 2.0.0 mx.family.example closing connection"));
        Assert.That(await tls.IsClosedAsync(), Is.True);
    }

    [Test]
    public async Task WrongPasswordAndUnknownUserGetTheSame535()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await smtp.LoginAsync(SmtpTestServer.Julie, "wrong"), Is.EqualTo("535 5.7.8 Authentication credentials invalid"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0nobody@family.example\0wrong")),
            Is.EqualTo("535 5.7.8 Authentication credentials invalid"));
        Assert.That(await smtp.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"), "two failures leave the session open");

        // The disabled mailbox with its right password: the same answer.
        await using var disabled = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await disabled.LoginAsync(SmtpTestServer.Gone, "gone-Pw-3"), Is.EqualTo("535 5.7.8 Authentication credentials invalid"));
    }

    [Test]
    public async Task TooManyFailedAuthenticationsClose()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await smtp.LoginAsync(SmtpTestServer.Julie, "wrong-1"), Is.EqualTo("535 5.7.8 Authentication credentials invalid"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0wrong-2")),
            Is.EqualTo("535 5.7.8 Authentication credentials invalid"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0wrong-3")),
            Is.EqualTo("535 5.7.8 Authentication credentials invalid"));
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("421 4.7.0 Too many failed authentications, closing connection"));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
    }

    [Test]
    public async Task LoginMechanismPromptsAndAcceptsTwoSpacesAfterAuthPlain()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        await smtp.CommandAsync("EHLO client.example");
        Assert.That(await smtp.CommandAsync("AUTH LOGIN"), Is.EqualTo("334 " + SmtpTranscript.Base64("Username:")));
        Assert.That(await smtp.CommandAsync(SmtpTranscript.Base64(SmtpTestServer.Julie)), Is.EqualTo("334 " + SmtpTranscript.Base64("Password:")));
        Assert.That(await smtp.CommandAsync(SmtpTranscript.Base64(SmtpTestServer.JuliePassword)), Is.EqualTo("235 2.7.0 Authentication successful"));

        await using var windowsMail = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        await windowsMail.CommandAsync("EHLO client.example");
        Assert.That(await windowsMail.CommandAsync("AUTH PLAIN  " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0" + SmtpTestServer.JuliePassword)),
            Is.EqualTo("235 2.7.0 Authentication successful"));
        Assert.That(await windowsMail.CommandAsync("AUTH PLAIN"), Is.EqualTo("503 5.5.1 Already authenticated"));
    }

    [Test]
    public async Task BadBase64AndCancelGet501()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        await smtp.CommandAsync("EHLO client.example");
        Assert.That(await smtp.CommandAsync("AUTH PLAIN not*base64"), Is.EqualTo("501 5.5.2 Invalid base64 data"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN"), Is.EqualTo("334 "));
        Assert.That(await smtp.CommandAsync("%%%"), Is.EqualTo("501 5.5.2 Invalid base64 data"));
        Assert.That(await smtp.CommandAsync("AUTH LOGIN"), Is.EqualTo("334 VXNlcm5hbWU6"));
        Assert.That(await smtp.CommandAsync("*"), Is.EqualTo("501 5.7.0 Authentication cancelled"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN *"), Is.EqualTo("501 5.7.0 Authentication cancelled"));
        Assert.That(await smtp.CommandAsync("AUTH CRAM-MD5"), Is.EqualTo("504 5.5.4 Unrecognized authentication mechanism"));
        // Valid base64, but not "authzid NUL authcid NUL password": a failed attempt (1 of 3).
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("julie@family.example julie-Pw-1")),
            Is.EqualTo("535 5.7.8 Authentication credentials invalid"));
        // None of that counted as a failed password: the session is still open and can log in.
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0" + SmtpTestServer.JuliePassword)),
            Is.EqualTo("235 2.7.0 Authentication successful"));
    }

    [Test]
    public async Task MailBeforeAuthenticationAndCommandsOutOfSequence()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie@family.example>"), Is.EqualTo("503 5.5.1 Send EHLO first"));
        await smtp.CommandAsync("EHLO client.example");
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie@family.example>"), Is.EqualTo("530 5.7.0 Authentication required"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<anna@family.example>"), Is.EqualTo("530 5.7.0 Authentication required"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0" + SmtpTestServer.JuliePassword)),
            Is.EqualTo("235 2.7.0 Authentication successful"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<anna@family.example>"), Is.EqualTo("503 5.5.1 Need MAIL before RCPT"));
        Assert.That(await smtp.CommandAsync("DATA"), Is.EqualTo("503 5.5.1 Need RCPT before DATA"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie@family.example>"), Is.EqualTo("250 2.1.0 Sender OK"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie@family.example>"), Is.EqualTo("503 5.5.1 Nested MAIL command"));
        Assert.That(await smtp.CommandAsync("AUTH PLAIN"), Is.EqualTo("503 5.5.1 AUTH is not allowed during a mail transaction"));
        Assert.That(await smtp.CommandAsync("DATA"), Is.EqualTo("554 5.5.1 No valid recipients"));
        Assert.That(await smtp.CommandAsync("RSET"), Is.EqualTo("250 2.0.0 OK"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<anna@family.example>"), Is.EqualTo("503 5.5.1 Need MAIL before RCPT"));
    }

    [Test]
    public async Task SenderMustBeTheAuthenticatedMailbox()
    {
        await using var smtp = await LoggedInAsync();
        Assert.That(await smtp.CommandAsync("MAIL FROM:<anna@family.example>"),
            Is.EqualTo("553 5.7.1 Sender address rejected: not owned by the authenticated user"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<boss@elsewhere.example>"),
            Is.EqualTo("553 5.7.1 Sender address rejected: not owned by the authenticated user"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<>"),
            Is.EqualTo("553 5.7.1 Sender address rejected: the null sender is not accepted for submission"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<jülie@family.example>"),
            Is.EqualTo("553 5.6.7 Non-ASCII sender address requires SMTPUTF8"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie>"), Is.EqualTo("501 5.1.7 Bad sender address syntax"));
        // The normalised address matches, however the client spells it.
        Assert.That(await smtp.CommandAsync("MAIL FROM: <Julie@FAMILY.example>"), Is.EqualTo("250 2.1.0 Sender OK"));
    }

    [Test]
    public async Task RecipientRefusals()
    {
        await using var smtp = await LoggedInAsync();
        await smtp.CommandAsync("MAIL FROM:<julie@family.example>");
        Assert.That(await smtp.CommandAsync("RCPT TO:<nobody@family.example>"), Is.EqualTo("550 5.1.1 Recipient address rejected: no such mailbox"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<gone@family.example>"), Is.EqualTo("550 5.2.1 Recipient address rejected: mailbox disabled"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<bob@elsewhere.example>"), Is.EqualTo("550 5.7.1 Relaying denied"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<anna>"), Is.EqualTo("501 5.1.3 Bad recipient address syntax"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<anna@family.example> NOTIFY=NEVER"), Is.EqualTo("555 5.5.4 Unsupported RCPT parameter NOTIFY"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<Anna@Family.Example>"), Is.EqualTo("250 2.1.5 Recipient OK"));
    }

    [Test]
    public async Task TooManyRecipients()
    {
        await using var smtp = await LoggedInAsync();
        var commands = new StringBuilder("MAIL FROM:<julie@family.example>\r\n");
        for (var i = 0; i < 101; i++)
        {
            commands.Append("RCPT TO:<anna@family.example>\r\n");
        }
        await smtp.SendAsync(commands.ToString());
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("250 2.1.0 Sender OK"));
        for (var i = 0; i < 100; i++)
        {
            Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("250 2.1.5 Recipient OK"), $"recipient {i + 1}");
        }
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("452 4.5.3 Too many recipients"));
    }

    [Test]
    public async Task OversizeMessageAnnouncedAtMail()
    {
        await using var smtp = await LoggedInAsync();
        Assert.That(await smtp.CommandAsync($"MAIL FROM:<julie@family.example> SIZE={MaxMessageSize + 1}"),
            Is.EqualTo("552 5.3.4 Message size exceeds fixed maximum message size"));
        Assert.That(await smtp.CommandAsync($"MAIL FROM:<julie@family.example> SIZE={MaxMessageSize}"), Is.EqualTo("250 2.1.0 Sender OK"));
    }

    [Test]
    public async Task OversizeMessageInDataIsReadToTheEndThenRefused()
    {
        var token = SmtpTestServer.Token();
        await using var smtp = await LoggedInAsync();
        await smtp.CommandAsync("MAIL FROM:<julie@family.example>");
        await smtp.CommandAsync("RCPT TO:<anna@family.example>");
        Assert.That(await smtp.CommandAsync("DATA"), Is.EqualTo("354 Start mail input; end with <CRLF>.<CRLF>"));
        var body = $"Subject: {token}\r\n\r\n" + string.Concat(Enumerable.Repeat("0123456789012345678901234567890123456789\r\n", 100));
        await smtp.SendAsync(body + ".\r\n");
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("552 5.3.4 Message size exceeds fixed maximum message size"));
        Assert.That(await smtp.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"), "the session goes on");
        Assert.That(SmtpTestServer.Delivered(_server, "anna", token), Is.Empty);
    }

    [Test]
    public async Task TooLongLineAfterLoginIsRefusedAndTheSessionContinues()
    {
        await using var smtp = await LoggedInAsync();
        Assert.That(await smtp.CommandAsync("EHLO " + new string('a', 5000)), Is.EqualTo("500 5.5.2 Line too long"));
        Assert.That(await smtp.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"));
    }

    [Test]
    public async Task TooLongLineBeforeLoginClosesTheConnection()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await smtp.CommandAsync("EHLO " + new string('a', 5000)), Is.EqualTo("421 4.7.0 Line too long before authentication, closing connection"));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
    }

    [Test]
    public async Task TooLongAuthenticationLineClosesTheConnection()
    {
        // RFC 4954's 500 5.5.6 would let the client go on; before login an over-long line ends the connection.
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        await smtp.CommandAsync("EHLO client.example");
        Assert.That(await smtp.CommandAsync("AUTH PLAIN"), Is.EqualTo("334 "));
        Assert.That(await smtp.CommandAsync(new string('A', 8000)), Is.EqualTo("421 4.7.0 Authentication exchange line is too long, closing connection"));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
    }

    [Test]
    public async Task PipelinedCommandsAreAnsweredInOrder()
    {
        var token = SmtpTestServer.Token();
        await using var smtp = await LoggedInAsync();
        await smtp.SendAsync(
            "MAIL FROM:<julie@family.example> BODY=8BITMIME\r\n" +
            "RCPT TO:<anna@family.example>\r\n" +
            "RCPT TO:<nobody@family.example>\r\n" +
            "DATA\r\n");
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("250 2.1.0 Sender OK"));
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("250 2.1.5 Recipient OK"));
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("550 5.1.1 Recipient address rejected: no such mailbox"));
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("354 Start mail input; end with <CRLF>.<CRLF>"));
        // The message, its end and the next commands in one write, too.
        await smtp.SendAsync($"Subject: {token}\r\n\r\n..dot\r\n.\r\nNOOP\r\nQUIT\r\n");
        Assert.That(await smtp.ReadReplyAsync(), Does.Match(@"^250 2\.0\.0 Message accepted as [0-9A-F]{16}$"));
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("250 2.0.0 OK"));
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("221 2.0.0 mx.family.example closing connection"));
        var delivered = SmtpTestServer.Delivered(_server, "anna", token);
        Assert.That(delivered, Has.Count.EqualTo(1));
        Assert.That(SmtpTestServer.SplitReceived(delivered[0]).Message, Is.EqualTo(Encoding.ASCII.GetBytes($"Subject: {token}\r\n\r\n.dot\r\n")));
    }

    [Test]
    public async Task PlaintextPipelinedAfterStartTlsClosesTheConnection()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: false);
        await smtp.CommandAsync("EHLO client.example");
        // CVE-2011-0411: a command injected after STARTTLS in the same packet must never run.
        await smtp.SendAsync("STARTTLS\r\nAUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0" + SmtpTestServer.JuliePassword) + "\r\n");
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("220 2.0.0 Ready to start TLS"));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
    }

    [Test]
    public async Task StartTlsForgetsTheEhlo()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: false);
        await smtp.CommandAsync("EHLO client.example");
        await smtp.StartTlsAsync();
        Assert.That(await smtp.CommandAsync("AUTH PLAIN " + SmtpTranscript.Base64("\0" + SmtpTestServer.Julie + "\0" + SmtpTestServer.JuliePassword)),
            Is.EqualTo("503 5.5.1 Send EHLO first"));
    }

    [Test]
    public async Task TooManyCommandsBeforeLoginClose()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        await smtp.SendAsync(string.Concat(Enumerable.Repeat("NOOP\r\n", 31)));
        for (var i = 0; i < 30; i++)
        {
            Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("250 2.0.0 OK"));
        }
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("421 4.7.0 Too many commands before authentication, closing connection"));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
    }

    [Test]
    public async Task EmptyLinesCountAsCommandsBeforeLogin()
    {
        await using var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        await smtp.SendAsync(string.Concat(Enumerable.Repeat("\r\n", 31)));
        for (var i = 0; i < 30; i++)
        {
            Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("500 5.5.1 Command unrecognized"));
        }
        Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("421 4.7.0 Too many commands before authentication, closing connection"));
        Assert.That(await smtp.IsClosedAsync(), Is.True);
    }

    [Test]
    public async Task FailingLocalDeliveryIsNeverAccepted()
    {
        // The mailbox's Maildir cannot be created: a file stands where its directory should be.
        var maildir = Path.Combine(_server.Cli.DataDirectory, "mail", SmtpTestServer.Domain, "full");
        Directory.CreateDirectory(Path.GetDirectoryName(maildir)!);
        await File.WriteAllTextAsync(maildir, "not a directory");
        var token = SmtpTestServer.Token();
        await using var smtp = await LoggedInAsync();
        await smtp.CommandAsync("MAIL FROM:<julie@family.example>");
        Assert.That(await smtp.CommandAsync("RCPT TO:<anna@family.example>"), Is.EqualTo("250 2.1.5 Recipient OK"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<full@family.example>"), Is.EqualTo("250 2.1.5 Recipient OK"));
        await smtp.CommandAsync("DATA");
        Assert.That(await smtp.CommandAsync($"Subject: {token}\r\n\r\nbody\r\n."), Is.EqualTo("452 4.3.1 Insufficient system storage, message not accepted"));
        Assert.That(SmtpTestServer.Delivered(_server, "anna", token), Is.Empty, "the copy already written for anna was taken back");
        Assert.That(await smtp.CommandAsync("NOOP"), Is.EqualTo("250 2.0.0 OK"));
    }

    [Test]
    public async Task Utf8RecipientsNeedSmtpUtf8()
    {
        var token = SmtpTestServer.Token();
        await using var smtp = await LoggedInAsync();
        await smtp.CommandAsync("MAIL FROM:<julie@family.example>");
        Assert.That(await smtp.CommandAsync("RCPT TO:<jürgen@family.example>"), Is.EqualTo("553 5.6.7 Non-ASCII recipient address requires SMTPUTF8"));
        Assert.That(await smtp.CommandAsync("RSET"), Is.EqualTo("250 2.0.0 OK"));
        Assert.That(await smtp.CommandAsync("MAIL FROM:<julie@family.example> SMTPUTF8 BODY=8BITMIME"), Is.EqualTo("250 2.1.0 Sender OK"));
        Assert.That(await smtp.CommandAsync("RCPT TO:<Jürgen@family.example>"), Is.EqualTo("250 2.1.5 Recipient OK"));
        await smtp.CommandAsync("DATA");
        Assert.That(await smtp.CommandAsync($"To: Jürgen <jürgen@family.example>\r\nSubject: {token}\r\n\r\nGrüße\r\n."), Does.StartWith("250 2.0.0 "));
        var delivered = SmtpTestServer.Delivered(_server, MailAuth.Server.Maildir.MaildirLocator.EncodeLocalPart("jürgen"), token);
        Assert.That(delivered, Has.Count.EqualTo(1));
        Assert.That(SmtpTestServer.SplitReceived(delivered[0]).Message,
            Is.EqualTo(Encoding.UTF8.GetBytes($"To: Jürgen <jürgen@family.example>\r\nSubject: {token}\r\n\r\nGrüße\r\n")));
    }

    private async Task<SmtpTranscript> LoggedInAsync()
    {
        var smtp = await SmtpTranscript.ConnectAsync(_server, implicitTls: true);
        Assert.That(await smtp.LoginAsync(SmtpTestServer.Julie, SmtpTestServer.JuliePassword), Is.EqualTo("235 2.7.0 Authentication successful"));
        return smtp;
    }
}
