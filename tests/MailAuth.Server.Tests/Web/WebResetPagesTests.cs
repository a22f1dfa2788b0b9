using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 16's sixth flow on a real server: <c>/forgot-password</c> answers alike for an unknown and an
/// existing identifier, the outbox holds a link to <c>/reset</c>, the link sets a new password once.
/// </summary>
[TestFixture]
public sealed partial class WebResetPagesTests
{
    private const string Account = WebServer.Address;
    private const string OldPassword = "account password 1";
    private const string NewPassword = "reset password 2";

    [Test]
    public async Task AResetLinkFromTheOutboxSetsANewPasswordOnceAndTheRequestSaysNothingAboutExistence()
    {
        await using var web = await WebServer.StartAsync();
        var cli = web.Server.Cli;
        Assert.That((await cli.RunWithInputAsync(OldPassword + "\n", "account", "add", Account, "--name", "Alice Smith",
            "--phone", "+41791234567", "--secondary-email", "alice@elsewhere.example")).ExitCode, Is.Zero);
        using var browser = new WebPageClient(web);
        await browser.GetAsync("/login");
        await browser.PostAsync("/login", true, ("identifier", Account), ("password", OldPassword), ("totp", ""));
        Assert.That((await browser.GetAsync("/account")).Status, Is.EqualTo(HttpStatusCode.OK));

        await browser.GetAsync("/forgot-password");
        var unknown = await browser.PostAsync("/forgot-password", true, ("identifier", "nobody@example.org"));
        var known = await browser.PostAsync("/forgot-password", true, ("identifier", Account));
        Assert.That(known.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(unknown.Status, Is.EqualTo(known.Status));
        Assert.That(WebPageClient.WithoutToken(unknown.Body).Replace("nobody@example.org", "ID", StringComparison.Ordinal),
            Is.EqualTo(WebPageClient.WithoutToken(known.Body).Replace(Account, "ID", StringComparison.Ordinal)));
        Assert.That(known.Body, Does.Contain("If this account exists, a link was sent to its secondary email and phone."));

        // The gateway's view (the CLI's outbox dispatch): email and SMS, each with the link.
        var dispatched = JsonDocument.Parse((await cli.RunAsync("outbox", "dispatch", "--json")).Stdout).RootElement;
        Assert.That(dispatched.GetArrayLength(), Is.EqualTo(2));
        var body = dispatched[0].GetProperty("body").GetString()!;
        var link = ResetLink().Match(body);
        Assert.That(link.Success, Is.True, body);
        Assert.That(link.Groups[1].Value, Is.EqualTo($"https://{WebServer.HostName}:{web.HttpsPort}/reset"), "the server's own name, never the request's Host header");
        var path = "/reset?token=" + link.Groups[2].Value;

        var form = await browser.GetAsync(path);
        Assert.That(form.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(form.Headers["Referrer-Policy"], Is.EqualTo("no-referrer"));
        Assert.That(form.Body, Does.Contain("name=\"new-password\"").And.Contain("name=\"confirm-new-password\"").And.Not.Contain("name=\"totp\""));
        var differ = await browser.PostAsync("/reset", true, ("token", link.Groups[2].Value), ("new-password", NewPassword), ("confirm-new-password", "other"));
        Assert.That(differ.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        await browser.GetAsync(path);
        var reset = await browser.PostAsync("/reset", true, ("token", link.Groups[2].Value), ("new-password", NewPassword), ("confirm-new-password", NewPassword));
        Assert.That(reset.Status, Is.EqualTo(HttpStatusCode.OK), reset.Body);
        Assert.That(reset.Body, Does.Contain("Your manager account&#x27;s password is changed."));
        Assert.That((await browser.GetAsync("/account")) is { Status: HttpStatusCode.SeeOther, Location: "/login" }, "the open session ended");

        var used = await browser.GetAsync(path);
        Assert.That(used.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(used.Body, Does.Contain("This link is unknown, already used or expired"));

        await browser.GetAsync("/login");
        var old = await browser.PostAsync("/login", true, ("identifier", Account), ("password", OldPassword), ("totp", ""));
        Assert.That(old.Status, Is.EqualTo(HttpStatusCode.Forbidden));
        var fresh = await browser.PostAsync("/login", true, ("identifier", Account), ("password", NewPassword), ("totp", ""));
        Assert.That(fresh is { Status: HttpStatusCode.SeeOther, Location: "/account" });
        Assert.That(web.Server.Log, Does.Not.Contain(link.Groups[2].Value), "the token is never logged");
    }

    [GeneratedRegex(@"(https://[^\s?]+)\?token=([A-Za-z0-9_-]+)")]
    private static partial Regex ResetLink();
}
