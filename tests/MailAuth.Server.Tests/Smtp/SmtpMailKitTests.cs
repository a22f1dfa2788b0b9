using MailAuth.Server.Tests.Imap;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Search;
using MailKit.Security;
using MimeKit;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>
/// MailKit's <see cref="SmtpClient"/> submitting on the submissions (465-style, implicit TLS) and
/// submission (587-style, STARTTLS) ports; the recipient then reads the message with MailKit's IMAP client.
/// </summary>
[TestFixture]
public sealed class SmtpMailKitTests
{
    private const string Password = "MailKit-smtp 3";
    private RunningServer _server = null!;
    private string _julie = null!;
    private string _anna = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        await MailKitClients.AddDomainAsync(_server);
        _julie = await MailKitClients.AddMailboxAsync(_server, "julie", Password);
        _anna = await MailKitClients.AddMailboxAsync(_server, "anna", Password);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [TestCase(SecureSocketOptions.SslOnConnect, "PLAIN")]
    [TestCase(SecureSocketOptions.SslOnConnect, "LOGIN")]
    [TestCase(SecureSocketOptions.StartTls, "PLAIN")]
    [TestCase(SecureSocketOptions.StartTls, "LOGIN")]
    public async Task SubmitsAMessageTheRecipientReadsOverImap(SecureSocketOptions security, string mechanism)
    {
        var subject = $"MailKit {security} {mechanism} {Guid.NewGuid():N}";
        var message = MailKitClients.Message(_julie, _anna, subject, DateTimeOffset.UtcNow, [1, 2, 3, 0, 255]);
        using (var smtp = await MailKitClients.SmtpAsync(_server, security))
        {
            Assert.Multiple(() =>
            {
                Assert.That(smtp.IsSecure, Is.True);
                Assert.That(smtp.Capabilities.HasFlag(SmtpCapabilities.Authentication), Is.True);
                Assert.That(smtp.AuthenticationMechanisms, Is.EquivalentTo(new[] { "PLAIN", "LOGIN" }));
                Assert.That(smtp.Capabilities.HasFlag(SmtpCapabilities.Pipelining | SmtpCapabilities.EightBitMime | SmtpCapabilities.EnhancedStatusCodes | SmtpCapabilities.UTF8), Is.True);
                Assert.That(smtp.MaxSize, Is.EqualTo(52428800), "SIZE");
            });
            await smtp.AuthenticateAsync(MailKitClients.Sasl(mechanism, _julie, Password));
            var reply = await smtp.SendAsync(message);
            Assert.That(reply, Does.StartWith("2.0.0").Or.Contain("queued").Or.Contain("OK").IgnoreCase);
            await smtp.DisconnectAsync(true);
        }

        using var imap = await MailKitClients.ImapAsync(_server, _anna, Password);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var found = await imap.Inbox.SearchAsync(SearchQuery.SubjectContains(subject));
        Assert.That(found, Has.Count.EqualTo(1), "exactly one copy in anna's INBOX");
        var received = await imap.Inbox.GetMessageAsync(found[0]);
        Assert.Multiple(() =>
        {
            Assert.That(received.MessageId, Is.EqualTo(message.MessageId));
            Assert.That(received.From.Mailboxes.Single().Address, Is.EqualTo(_julie));
            Assert.That(received.Headers[HeaderId.Received], Does.Contain("with ESMTPSA").And.Contain("authenticated as " + _julie));
            Assert.That(received.Attachments.OfType<MimePart>().Single().FileName, Is.EqualTo("report.pdf"));
        });
    }

    [Test]
    public async Task SubmissionFilesNoCopyInSentTheClientAppendsItself()
    {
        // MailAuth delivers and relays but does not save the sender's copy: a mail application
        // appends to Sent itself after sending, as Thunderbird and MailKit-based clients do.
        var subject = "sent copy " + Guid.NewGuid().ToString("N");
        var message = MailKitClients.Message(_julie, _anna, subject, DateTimeOffset.UtcNow);
        using (var smtp = await MailKitClients.SmtpAsync(_server, SecureSocketOptions.StartTls))
        {
            await smtp.AuthenticateAsync(MailKitClients.Sasl("PLAIN", _julie, Password));
            await smtp.SendAsync(message);
            await smtp.DisconnectAsync(true);
        }

        using var imap = await MailKitClients.ImapAsync(_server, _julie, Password);
        var sent = await imap.GetFolderAsync("Sent");
        await sent.OpenAsync(FolderAccess.ReadWrite);
        var beforeAppend = await sent.SearchAsync(SearchQuery.SubjectContains(subject));
        var uid = await sent.AppendAsync(new AppendRequest(message, MessageFlags.Seen));
        var afterAppend = await sent.SearchAsync(SearchQuery.SubjectContains(subject).And(SearchQuery.Seen));
        Assert.Multiple(() =>
        {
            Assert.That(beforeAppend, Is.Empty);
            Assert.That(afterAppend, Is.EqualTo(new[] { uid!.Value }));
        });
    }

    [Test]
    public async Task AnotherMailboxAsSenderIsRefusedAndNothingIsDelivered()
    {
        var subject = "forged " + Guid.NewGuid().ToString("N");
        var message = MailKitClients.Message(_anna, _anna, subject, DateTimeOffset.UtcNow);
        using var smtp = await MailKitClients.SmtpAsync(_server, SecureSocketOptions.SslOnConnect);
        await smtp.AuthenticateAsync(MailKitClients.Sasl("PLAIN", _julie, Password));

        var error = Assert.ThrowsAsync<SmtpCommandException>(() => smtp.SendAsync(message));
        Assert.Multiple(() =>
        {
            Assert.That(error!.ErrorCode, Is.EqualTo(SmtpErrorCode.SenderNotAccepted));
            Assert.That((int)error.StatusCode, Is.EqualTo(553));
            Assert.That(error.Message, Does.Contain("not owned by the authenticated user"));
            Assert.That(error.Mailbox?.Address, Is.EqualTo(_anna));
        });

        // The session goes on: julie may still send as herself.
        await smtp.SendAsync(MailKitClients.Message(_julie, _anna, "after the refusal " + subject, DateTimeOffset.UtcNow));
        await smtp.DisconnectAsync(true);
        using var imap = await MailKitClients.ImapAsync(_server, _anna, Password);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var subjects = (await imap.Inbox.FetchAsync(await imap.Inbox.SearchAsync(SearchQuery.SubjectContains(subject)), new FetchRequest(MessageSummaryItems.Envelope)))
            .Select(s => s.Envelope!.Subject);
        Assert.That(subjects, Is.EqualTo(new[] { "after the refusal " + subject }));
    }

    [Test]
    public async Task SendingWithoutLoginIsRefused()
    {
        using var smtp = await MailKitClients.SmtpAsync(_server, SecureSocketOptions.StartTls);
        // MailKit turns MAIL's 530 into its not-authenticated exception, with the server's text.
        var error = Assert.ThrowsAsync<ServiceNotAuthenticatedException>(() => smtp.SendAsync(MailKitClients.Message(_julie, _anna, "anonymous", DateTimeOffset.UtcNow)));
        Assert.That(error!.Message, Is.EqualTo("5.7.0 Authentication required"));
    }

    [Test]
    public async Task AWrongPasswordAndARelayAttemptAreRefused()
    {
        using (var smtp = await MailKitClients.SmtpAsync(_server, SecureSocketOptions.SslOnConnect))
        {
            var login = Assert.ThrowsAsync<AuthenticationException>(() => smtp.AuthenticateAsync(MailKitClients.Sasl("LOGIN", _julie, "wrong")));
            Assert.That(login!.Message, Does.Contain("5.7.8").Or.Contain("failed").IgnoreCase);
        }

        using var relay = await MailKitClients.SmtpAsync(_server, SecureSocketOptions.StartTls);
        await relay.AuthenticateAsync(MailKitClients.Sasl("PLAIN", _julie, Password));
        var error = Assert.ThrowsAsync<SmtpCommandException>(() => relay.SendAsync(MailKitClients.Message(_julie, "someone@elsewhere.example", "relay", DateTimeOffset.UtcNow)));
        Assert.Multiple(() =>
        {
            Assert.That(error!.ErrorCode, Is.EqualTo(SmtpErrorCode.RecipientNotAccepted));
            Assert.That((int)error.StatusCode, Is.EqualTo(550));
            Assert.That(error.Message, Does.Contain("Relaying denied"));
        });
    }
}
