using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace MailAuth.Server.Tests.Imap;

/// <summary>
/// MailKit's IMAP and SMTP clients against a <see cref="RunningServer"/>, trusting exactly the
/// server's generated self-signed certificate (pinned by hash, as a user who accepted it would).
/// </summary>
internal static class MailKitClients
{
    public const string Domain = "family.example";

    /// <summary>Adds <paramref name="localPart"/>@family.example with <paramref name="password"/>; returns the address.</summary>
    public static async Task<string> AddMailboxAsync(RunningServer server, string localPart, string password)
    {
        var address = $"{localPart}@{Domain}";
        var result = await server.Cli.RunWithInputAsync(password + "\n", "mailbox", "add", address);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        return address;
    }

    public static async Task AddDomainAsync(RunningServer server)
    {
        var result = await server.Cli.RunAsync("domain", "add", Domain);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
    }

    /// <summary>
    /// A logged-in IMAP client: <paramref name="security"/> picks the port (SslOnConnect: the 993-style
    /// port, StartTls: the 143-style one). <paramref name="mechanism"/> is PLAIN or LOGIN (SASL, by
    /// AUTHENTICATE) or "LOGIN-command" (the IMAP LOGIN command, which MailKit uses when no SASL
    /// mechanism fits).
    /// </summary>
    public static async Task<ImapClient> ImapAsync(RunningServer server, string address, string password,
        SecureSocketOptions security = SecureSocketOptions.SslOnConnect, string mechanism = "PLAIN")
    {
        var client = new ImapClient();
        try
        {
            Trust(client, server);
            await client.ConnectAsync("127.0.0.1", security == SecureSocketOptions.SslOnConnect ? server.ImapsPort : server.ImapPort, security);
            if (mechanism == "LOGIN-command")
            {
                client.AuthenticationMechanisms.Clear();
                await client.AuthenticateAsync(address, password);
            }
            else
            {
                await client.AuthenticateAsync(Sasl(mechanism, address, password));
            }
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A connected SMTP client on the submissions (SslOnConnect) or submission (StartTls) port, not yet logged in.</summary>
    public static async Task<SmtpClient> SmtpAsync(RunningServer server, SecureSocketOptions security)
    {
        var client = new SmtpClient { LocalDomain = "client.family.example" };
        try
        {
            Trust(client, server);
            await client.ConnectAsync("127.0.0.1", security == SecureSocketOptions.SslOnConnect ? server.SubmissionsPort : server.SubmissionPort, security);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public static SaslMechanism Sasl(string mechanism, string address, string password) => mechanism switch
    {
        "PLAIN" => new SaslMechanismPlain(new NetworkCredential(address, password)),
        "LOGIN" => new SaslMechanismLogin(new NetworkCredential(address, password)),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, "PLAIN or LOGIN"),
    };

    /// <summary>A multipart/mixed message: a UTF-8 text part and a binary attachment (base64).</summary>
    public static MimeMessage Message(string from, string to, string subject, DateTimeOffset date, byte[]? attachment = null)
    {
        var builder = new BodyBuilder { TextBody = $"Hello from {from}.\nGrüße, 日本語 ✓\n" };
        if (attachment is not null)
        {
            builder.Attachments.Add("report.pdf", attachment, new ContentType("application", "pdf"));
        }
        var message = new MimeMessage
        {
            Subject = subject,
            Date = date,
            MessageId = $"{Guid.NewGuid():N}@{Domain}",
            Body = builder.ToMessageBody(),
        };
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        return message;
    }

    private static void Trust(MailKit.MailService client, RunningServer server)
    {
        var pem = File.ReadAllText(Path.Combine(server.Cli.DataDirectory, "tls", "certificate.pem"));
        var expected = X509Certificate2.CreateFromPem(pem).GetCertHashString();
        client.CheckCertificateRevocation = false; // a self-signed certificate has no revocation list
        client.ServerCertificateValidationCallback = (object _, X509Certificate? certificate, X509Chain? _, SslPolicyErrors _) =>
            certificate is not null && certificate.GetCertHashString() == expected;
    }
}
