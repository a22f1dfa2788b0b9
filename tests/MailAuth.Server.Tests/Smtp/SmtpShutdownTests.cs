namespace MailAuth.Server.Tests.Smtp;

[TestFixture]
public sealed class SmtpShutdownTests
{
    [Test]
    public async Task ConnectedClientsAreToldWhenTheServerStops()
    {
        var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Imap__Port"] = "0",
            ["MailAuth__Imap__TlsPort"] = "0",
        });
        SmtpTranscript smtp;
        try
        {
            smtp = await SmtpTranscript.ConnectAsync(server, implicitTls: true);
            Assert.That(await smtp.CommandAsync("EHLO client.example"), Does.StartWith("250-"));
        }
        finally
        {
            await server.DisposeAsync(); // SIGTERM, waits for the process to exit
        }
        await using (smtp)
        {
            Assert.That(await smtp.ReadReplyAsync(), Is.EqualTo("421 4.3.2 Service shutting down, closing connection"));
            Assert.That(await smtp.IsClosedAsync(), Is.True);
        }
    }
}
