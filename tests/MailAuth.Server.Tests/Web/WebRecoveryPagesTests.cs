using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 16's seventh and eighth flows on one real server: <c>/forgot-login</c> gives one answer
/// whether or not the phone number has an account and sends the identifier through the outbox only;
/// <c>/recovery</c> takes the seeds' example (the domain's mail service cancelled, the recovery
/// username from the SMS in the outbox) to a new login identifier and a session.
/// </summary>
[TestFixture]
public sealed partial class WebRecoveryPagesTests
{
    private const string Julie = "julie@entreprise-familiale.xyz";
    private const string JuliePassword = "account password 1";
    private const string JuliePhone = "+41791234567";

    [Test]
    public async Task ForgotLoginSaysTheSameForAnyNumberAndRecoveryChoosesANewIdentifierAndLogsIn()
    {
        await using var web = await WebServer.StartAsync();
        var cli = web.Server.Cli;
        Assert.That((await cli.RunAsync("domain", "add", "entreprise-familiale.xyz")).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync("mailbox password 1\n", "mailbox", "add", Julie)).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync(JuliePassword + "\n", "account", "add", Julie, "--name", "Julie Martin",
            "--phone", "+41 79 123 45 67", "--secondary-email", "julie.martin@yahoo.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", Julie, Julie, "--can-change-password")).ExitCode, Is.Zero);
        using var browser = new WebPageClient(web);

        var form = await browser.GetAsync("/forgot-login");
        Assert.That(form.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(form.Body, Does.Contain("name=\"phone\" id=\"phone\" aria-describedby=\"phone-hint\" autocomplete=\"tel\""));
        Assert.That((await browser.PostAsync("/forgot-login", withToken: false, ("phone", JuliePhone))).Status, Is.EqualTo(HttpStatusCode.BadRequest));
        var known = await browser.PostAsync("/forgot-login", true, ("phone", "+41 79 123 45 67"));
        var unknown = await browser.PostAsync("/forgot-login", true, ("phone", "+41 79 765 43 21"));
        Assert.That((known.Status, unknown.Status), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.OK)));
        Assert.That(WebPageClient.WithoutToken(known.Body), Is.EqualTo(WebPageClient.WithoutToken(unknown.Body)));
        Assert.That(known.Body, Does.Contain("If an account has this phone number, its login identifier was sent").And.Not.Contain(Julie));
        var badNumber = await browser.PostAsync("/forgot-login", true, ("phone", "079 123 45 67"));
        Assert.That(badNumber.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(badNumber.Body, Does.Contain("international form").And.Contain("aria-invalid=\"true\""));
        var sent = await OutboxAsync(web);
        Assert.That(sent.Select(m => (m.Channel, m.Recipient, m.Body)), Is.EquivalentTo(new[]
        {
            ("sms", JuliePhone, $"The login identifier of your manager account is {Julie}."),
            ("email", "julie.martin@yahoo.example", $"The login identifier of your manager account is {Julie}."),
        }));

        // The seeds' example: the domain's mail service is cancelled, the recovery username comes by SMS.
        Assert.That((await cli.RunAsync("domain", "remove", "entreprise-familiale.xyz", "--with-mailboxes")).ExitCode, Is.Zero);
        var sms = (await OutboxAsync(web)).Last(m => m.Channel == "sms").Body;
        var recovery = RecoveryUsername().Match(sms).Groups[1].Value;
        Assert.That(recovery, Does.Match("^jm[0-9]{6}$"), sms);

        await browser.GetAsync("/login");
        var mustChoose = await browser.PostAsync("/login", true, ("identifier", recovery), ("password", JuliePassword), ("totp", ""));
        Assert.That(mustChoose.Status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(mustChoose.Body, Does.Contain("<a href=\"/recovery\">Choose a new login identifier</a>"));

        var recoveryForm = await browser.GetAsync("/recovery");
        Assert.That(recoveryForm.Body, Does.Contain("name=\"recovery-username\" id=\"recovery-username\" autocomplete=\"username\"")
            .And.Contain("name=\"new-identifier\" id=\"new-identifier\" aria-describedby=\"new-identifier-hint\" autocomplete=\"email\""));
        var wrong = await browser.PostAsync("/recovery", true, ("recovery-username", recovery), ("password", "not it"), ("totp", ""),
            ("new-identifier", "julie@yahoo.example"));
        Assert.That(wrong.Status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(wrong.Body, Does.Contain("role=\"alert\">Not accepted: login with the recovery username failed"));
        var recovered = await browser.PostAsync("/recovery", true, ("recovery-username", recovery), ("password", JuliePassword), ("totp", ""),
            ("new-identifier", "julie@yahoo.example"));
        Assert.That((recovered.Status, recovered.Location), Is.EqualTo((HttpStatusCode.SeeOther, "/account")), recovered.Body);
        var account = await browser.GetAsync("/account");
        Assert.That(account.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(account.Body, Does.Contain("Logged in as julie@yahoo.example (Julie Martin)."));

        using var laterBrowser = new WebPageClient(web);
        await laterBrowser.GetAsync("/login");
        var login = await laterBrowser.PostAsync("/login", true, ("identifier", "julie@yahoo.example"), ("password", JuliePassword), ("totp", ""));
        Assert.That((login.Status, login.Location), Is.EqualTo((HttpStatusCode.SeeOther, "/account")));
        await laterBrowser.GetAsync("/login");
        Assert.That((await laterBrowser.PostAsync("/login", true, ("identifier", recovery), ("password", JuliePassword), ("totp", ""))).Status,
            Is.EqualTo(HttpStatusCode.Forbidden));
    }

    private static async Task<List<(string Channel, string Recipient, string Body)>> OutboxAsync(WebServer web)
    {
        var outbox = await web.Server.Cli.RunAsync("outbox", "list", "--json");
        return [.. JsonDocument.Parse(outbox.Stdout).RootElement.EnumerateArray().Select(m =>
            (m.GetProperty("channel").GetString()!, m.GetProperty("recipient").GetString()!, m.GetProperty("body").GetString()!))];
    }

    [GeneratedRegex("username ([a-z]+[0-9]+) ")]
    private static partial Regex RecoveryUsername();
}
