using System.Net;
using System.Text;
using MailAuth.Server.Tests.Imap;

namespace MailAuth.Server.Tests.Web;

/// <summary>Issue 16, flow 2: the holder changes a mailbox password knowing the current one.</summary>
[TestFixture]
public sealed class MailboxPasswordApiTests
{
    private const string NewPassword = "a new and longer one";

    private static async Task<(HttpStatusCode Status, string Body)> ChangeAsync(HttpClient http, WebServer web, string json)
    {
        using var response = await http.PostAsync(web.Https("/api/v1/mailbox/password"), new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task TheHolderChangesThePasswordTheOpenSessionsEndAndOnlyTheNewOneLogsIn()
    {
        await using var web = await WebServer.StartAsync();
        using var http = WebServer.Client();
        await using var imap = await ImapTestClient.ConnectAsync(web.Server, implicitTls: false);
        Assert.That((await imap.CommandAsync("l", $"LOGIN {WebServer.Address} \"{WebServer.Password}\""))[^1], Does.StartWith("l OK"));

        var wrong = await ChangeAsync(http, web, $$"""{"address":"{{WebServer.Address}}","password":"not it","newPassword":"{{NewPassword}}"}""");
        Assert.That(wrong, Is.EqualTo((HttpStatusCode.Unauthorized, """{"result":"failed","message":"the address or the password is wrong"}""")));
        var refused = await ChangeAsync(http, web, $$"""{"address":"{{WebServer.Address}}","password":"{{WebServer.Password}}","newPassword":""}""");
        Assert.That(refused, Is.EqualTo((HttpStatusCode.BadRequest, """{"result":"invalid","message":"new password: the password is empty"}""")));

        var changed = await ChangeAsync(http, web, $$"""{"address":"ALICE@example.org","password":"{{WebServer.Password}}","newPassword":"{{NewPassword}}"}""");
        Assert.That(changed, Is.EqualTo((HttpStatusCode.OK, """{"result":"changed","address":"alice@example.org","sessionsEnded":true}""")));

        var ended = new List<string>();
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            while (await imap.TryReadLineAsync().WaitAsync(deadline.Token) is { } line)
            {
                ended.Add(line);
            }
        }
        Assert.That(ended, Is.EqualTo(new[] { "* BYE Your credentials changed, log in again" }));

        Assert.That((await web.Server.Cli.RunWithInputAsync(WebServer.Password + "\n", "auth", "test", WebServer.Address)).ExitCode, Is.EqualTo(1));
        Assert.That((await web.Server.Cli.RunWithInputAsync(NewPassword + "\n", "auth", "test", WebServer.Address)).ExitCode, Is.Zero);
        var audit = await web.Server.Cli.RunAsync("audit", "list");
        Assert.That(audit.Stdout, Does.Contain("mailbox:alice@example.org").And.Contain("changed by the holder from 127.0.0.1"), audit.ToString());
    }
}
