using System.Net;
using System.Text.RegularExpressions;
using MailAuth.Core.Accounts;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 16's ninth flow on a real server: <c>/account/2fa</c> enrols with a QR code and the base32
/// secret, stores nothing until a right first code, then every login needs a code; disabling needs a
/// current code; each change ends every session of the account.
/// </summary>
[TestFixture]
public sealed partial class WebTwoFactorPagesTests
{
    private const string Account = WebServer.Address;
    private const string AccountPassword = "account password 1";

    [Test]
    public async Task EnrolmentNeedsARightFirstCodeThenLoginsNeedOneAndDisablingNeedsOne()
    {
        await using var web = await WebServer.StartAsync();
        var cli = web.Server.Cli;
        Assert.That((await cli.RunWithInputAsync(AccountPassword + "\n", "account", "add", Account, "--name", "Alice Smith",
            "--phone", "+41791234567", "--secondary-email", "alice@elsewhere.example")).ExitCode, Is.Zero);
        using var browser = new WebPageClient(web);
        using var elsewhere = new WebPageClient(web);
        foreach (var client in new[] { elsewhere, browser })
        {
            await client.GetAsync("/login");
            Assert.That((await client.PostAsync("/login", true, ("identifier", Account), ("password", AccountPassword), ("totp", ""))).Location, Is.EqualTo("/account"));
        }
        Assert.That((await browser.GetAsync("/account")).Body, Does.Contain("<a href=\"/account/2fa\">Turn 2FA on</a>"));

        var enrol = await browser.GetAsync("/account/2fa");
        Assert.That(enrol.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(enrol.Body, Does.Contain("<svg class=\"qr\"").And.Contain("<path fill=\"#000\" d=\"M").And.Not.Contain("style=").And.Not.Contain("data:")
            .And.Contain("autocomplete=\"one-time-code\""));
        var secret = Base32Text.Decode(SecretShown().Match(enrol.Body).Groups[1].Value);
        Assert.That(secret, Has.Length.EqualTo(Totp.SecretBytes));
        var enrolment = HiddenEnrolment().Match(enrol.Body).Groups[1].Value;

        // A wrong code: refused at the field, nothing stored, the same secret offered again.
        var wrong = await browser.PostAsync("/account/2fa", true, ("enrolment", enrolment), ("totp", WrongCode(secret)));
        Assert.That(wrong.Status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(wrong.Body, Does.Contain("id=\"totp-error\">The code is wrong").And.Contain(Base32(secret)));
        Assert.That((await cli.RunAsync("account", "show", Account)).Stdout, Does.Match(@"2FA:\s+off"));
        // A sealed enrolment altered by the browser is not accepted (a new secret is offered).
        var altered = await browser.PostAsync("/account/2fa", true, ("enrolment", enrolment[..^4] + "AAAA"), ("totp", Totp.Code(secret, Totp.StepAt(DateTimeOffset.UtcNow))));
        Assert.That(altered.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(altered.Body, Does.Contain("This enrolment expired"));

        // The right code (one step back, so that the next two steps stay for the login and the disabling).
        var enrolStep = Totp.StepAt(DateTimeOffset.UtcNow) - 1;
        var enabled = await browser.PostAsync("/account/2fa", true, ("enrolment", enrolment), ("totp", Totp.Code(secret, enrolStep)));
        Assert.That(enabled.Status, Is.EqualTo(HttpStatusCode.OK), enabled.Body);
        Assert.That(enabled.Body, Does.Contain("Two-factor authentication is on"));
        Assert.That((await cli.RunAsync("account", "show", Account)).Stdout, Does.Match(@"2FA:\s+on"));
        Assert.That((await browser.GetAsync("/account")).Location, Is.EqualTo("/login"));
        Assert.That((await elsewhere.GetAsync("/account")).Location, Is.EqualTo("/login"), "another session outlived the 2FA change");

        await browser.GetAsync("/login");
        var noCode = await browser.PostAsync("/login", true, ("identifier", Account), ("password", AccountPassword), ("totp", ""));
        Assert.That(noCode.Status, Is.EqualTo(HttpStatusCode.Forbidden));
        var loggedIn = await browser.PostAsync("/login", true, ("identifier", Account), ("password", AccountPassword), ("totp", Totp.Code(secret, enrolStep + 1)));
        Assert.That(loggedIn.Location, Is.EqualTo("/account"), loggedIn.Body);

        var disable = await browser.GetAsync("/account/2fa");
        Assert.That(disable.Body, Does.Contain("Turn two-factor authentication off").And.Not.Contain("<svg"));
        var refused = await browser.PostAsync("/account/2fa", true, ("totp", WrongCode(secret)));
        Assert.That(refused.Status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await cli.RunAsync("account", "show", Account)).Stdout, Does.Match(@"2FA:\s+on"));
        var disabled = await browser.PostAsync("/account/2fa", true, ("totp", Totp.Code(secret, enrolStep + 2)));
        Assert.That(disabled.Body, Does.Contain("Two-factor authentication is off"), disabled.Body);
        Assert.That((await cli.RunAsync("account", "show", Account)).Stdout, Does.Match(@"2FA:\s+off"));
        await browser.GetAsync("/login");
        Assert.That((await browser.PostAsync("/login", true, ("identifier", Account), ("password", AccountPassword), ("totp", ""))).Location, Is.EqualTo("/account"));
        Assert.That(await web.Server.LoggedAsync($"account 2fa disable identifier={Account} remote=127.0.0.1 result=Changed"), Is.True, web.Server.Log);
    }

    /// <summary>A 6-digit code that is none of the codes accepted now (this step and one either side).</summary>
    private static string WrongCode(byte[] secret)
    {
        var now = Totp.StepAt(DateTimeOffset.UtcNow);
        var accepted = Enumerable.Range(-2, 5).Select(drift => Totp.Code(secret, now + drift)).ToHashSet();
        return Enumerable.Range(0, 10).Select(n => new string((char)('0' + n), Totp.Digits)).First(code => !accepted.Contains(code));
    }

    private static string Base32(byte[] secret) => Core.Accounts.Base32.Encode(secret);

    [GeneratedRegex("<p>Secret: ([A-Z2-7]+)</p>")]
    private static partial Regex SecretShown();

    [GeneratedRegex("name=\"enrolment\" id=\"enrolment\" value=\"([^\"]+)\"")]
    private static partial Regex HiddenEnrolment();
}
