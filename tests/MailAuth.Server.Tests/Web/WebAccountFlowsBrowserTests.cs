using System.Text.Json;
using System.Text.RegularExpressions;
using MailAuth.Core.Accounts;
using OpenQA.Selenium;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 16's flows 5 to 9 in a real browser (chromium through chromium-driver), end to end on one
/// real <c>mailauth serve</c> at a phone's width: the seeds' example of julie (unified, her account
/// password carrying the mailbox along, the pair dissolved by a second account's access, then her
/// domain's mail service cancelled and a recovery with the username from the SMS), a forgotten
/// password reset through the link from the outbox with the 2FA code, a forgotten login identifier
/// sent and never shown, and 2FA enrolled from the page's secret and turned off with a code. A
/// screenshot of each page goes to the test output.
/// </summary>
[TestFixture]
[Category("External")]
[NonParallelizable]
public sealed partial class WebAccountFlowsBrowserTests
{
    private const string Alice = WebServer.Address;
    private const string AlicePassword = "Alice's account pass";
    private const string AlicePhone = "+41791234567";
    private const string AliceEmail = "alice@elsewhere.example";
    private const string Carol = "carol@elsewhere.example";
    private const string CarolPassword = "Carol's account pass";
    private const string Julie = "julie@entreprise-familiale.xyz";
    private const string JuliePassword = "Julie's own account";
    private const string JuliePhone = "+41791112233";

    private WebServer _web = null!;
    private Chromium _browser = null!;
    private byte[] _aliceSecret = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // About fifty page views of three requests each (page, style sheet, favicon) in well under a minute.
        _web = await WebServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Web__MaxRequestsPerMinutePerAddress"] = "1000" });
        var cli = _web.Server.Cli;
        Assert.That((await cli.RunWithInputAsync(AlicePassword + "\n", "account", "add", Alice, "--name", "Alice Smith",
            "--phone", AlicePhone, "--secondary-email", AliceEmail)).ExitCode, Is.Zero);
        var enabled = await cli.RunAsync("account", "2fa", "enable", Alice);
        _aliceSecret = Base32Text.Decode(enabled.Stdout.Split("secret=")[1].Split('&')[0]);
        Assert.That((await cli.RunWithInputAsync(CarolPassword + "\n", "account", "add", Carol, "--name", "Carol Jones",
            "--phone", "+41797778899", "--secondary-email", "carol@yahoo.example")).ExitCode, Is.Zero);
        // The seeds' example: julie's mailbox, and her manager account with the same address.
        Assert.That((await cli.RunAsync("domain", "add", "entreprise-familiale.xyz")).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", Julie)).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync(JuliePassword + "\n", "account", "add", Julie, "--name", "Julie Martin",
            "--phone", JuliePhone, "--secondary-email", "julie@yahoo.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", Julie, Julie, "--can-change-password")).ExitCode, Is.Zero);
        _browser = new Chromium(Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots", "web-account-flows"));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _browser?.Dispose();
        if (_web is not null)
        {
            await _web.DisposeAsync();
        }
    }

    [Test]
    public async Task Flow5And8TheSeedsJulieUnifiedThenDissolvedThenRecoveredAfterHerDomainIsCancelled()
    {
        const string Unified = "one for both 2026";
        const string Changed = "both follow 2027";
        const string AccountOnly = "account only 2028";
        var cli = _web.Server.Cli;

        // Unification offered and accepted on the mailbox's page.
        LogIn(Julie, JuliePassword);
        _browser.Follow(By.LinkText(Julie));
        Assert.That(_browser.MainText, Does.Contain("Unification offered"));
        _browser.Screenshot("julie-unification-offered");
        _browser.Type("new-password", Unified);
        _browser.Type("confirm-new-password", Unified);
        _browser.Field("unify").Click();
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain($"{Julie} and your manager account are now unified"));
        _browser.Screenshot("julie-unified");

        // Flow 5: the account password changes, the unified mailbox follows, and the page says so before and after.
        LogIn(Julie, Unified);
        _browser.Follow(By.LinkText("Change your account password"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/account/password").ToString()));
        Assert.That(_browser.MainText, Does.Contain($"Your account is unified with the mailbox {Julie}: its password will change too"));
        Assert.That(_browser.Field("new-password").GetAttribute("autocomplete"), Is.EqualTo("new-password"));
        Assert.That(_browser.FitsWidth(), Is.True);
        _browser.Screenshot("julie-account-password-unified");
        _browser.Type("password", "not my password");
        _browser.Type("new-password", Changed);
        _browser.Type("confirm-new-password", Changed);
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("The current password is wrong."));
        Assert.That(_browser.DescriptionOf("password"), Does.Contain("The current password is wrong."));
        _browser.Screenshot("julie-account-password-refused");
        _browser.Type("password", Unified);
        _browser.Type("new-password", Changed);
        _browser.Type("confirm-new-password", Changed);
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain($"Your manager account's password is changed, and so is the password of {Julie}: they are unified.")
            .And.Contain("You are logged out everywhere."));
        _browser.Screenshot("julie-account-password-changed");
        Assert.That((await cli.RunWithInputAsync(Changed + "\n", "auth", "test", Julie)).ExitCode, Is.Zero, "the mailbox followed");
        Assert.That((await cli.RunWithInputAsync(Unified + "\n", "auth", "test", Julie)).ExitCode, Is.EqualTo(1));

        // A second account gets access (the admin's CLI): the pair comes apart, and the pages say so.
        Assert.That((await cli.RunWithInputAsync("Marc's password\n", "account", "add", "marc@elsewhere.example", "--name", "Marc Martin",
            "--phone", "+41794445566", "--secondary-email", "marc@yahoo.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", "marc@elsewhere.example", Julie)).ExitCode, Is.Zero);
        LogIn(Julie, Changed);
        Assert.That(_browser.MainText, Does.Contain($"{Julie} See it; change its password.").And.Not.Contain("Unified"));
        _browser.Screenshot("julie-account-dissolved");
        _browser.Follow(By.LinkText("Change your account password"));
        Assert.That(_browser.MainText, Does.Contain("Only your manager account's password changes").And.Not.Contain("unified"));
        _browser.Type("password", Changed);
        _browser.Type("new-password", AccountOnly);
        _browser.Type("confirm-new-password", AccountOnly);
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("Your manager account's password is changed.").And.Not.Contain("unified"));
        _browser.Screenshot("julie-account-password-alone");
        Assert.That((await cli.RunWithInputAsync(Changed + "\n", "auth", "test", Julie)).ExitCode, Is.Zero, "the dissolved mailbox kept its password");

        // Flow 8: the domain's mail service is cancelled; the recovery username comes by SMS.
        LogIn(Julie, AccountOnly);
        Assert.That((await cli.RunAsync("domain", "remove", "entreprise-familiale.xyz", "--with-mailboxes")).ExitCode, Is.Zero);
        _browser.Driver.Navigate().GoToUrl(_web.Https("/account"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/login").ToString()), "the session of the former identifier ended");
        var sms = (await OutboxAsync()).Last(message => message.Channel == "sms" && message.Recipient == JuliePhone).Body;
        var recovery = RecoveryUsername().Match(sms).Groups[1].Value;
        Assert.That(recovery, Does.Match("^jm[0-9]{6}$"), sms);

        _browser.Type("identifier", Julie);
        _browser.Type("password", AccountOnly);
        _browser.Submit();
        Assert.That(_browser.DescriptionOf("password"), Does.EndWith("The login identifier, the password or the 2FA code is wrong."), "the former identifier is gone");
        _browser.Type("identifier", recovery);
        _browser.Type("password", AccountOnly);
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("A new login identifier must be chosen before you can log in."));
        _browser.Screenshot("julie-must-choose-identifier");
        _browser.Follow(By.LinkText("Choose a new login identifier"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/recovery").ToString()));
        Assert.That(_browser.Field("new-identifier").GetAttribute("autocomplete"), Is.EqualTo("email"));
        _browser.Screenshot("recovery");
        _browser.Type("recovery-username", recovery);
        _browser.Type("password", AccountOnly);
        _browser.Type("new-identifier", "julie@yahoo.example");
        _browser.Submit();
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/account").ToString()), _browser.MainText);
        Assert.That(_browser.MainText, Does.Contain("Logged in as julie@yahoo.example (Julie Martin).")
            .And.Contain("This account has access to no mailbox yet."));
        _browser.Screenshot("julie-recovered");
        Assert.That((await cli.RunWithInputAsync(AccountOnly + "\n", "account", "login", "julie@yahoo.example")).ExitCode, Is.Zero);
    }

    [Test]
    public async Task Flow6ResetsAForgottenPasswordWithTheLinkFromTheOutboxAndTheTwoFactorCode()
    {
        const string NewPassword = "Alice's reset pass";
        var lastStep = 0L;
        _browser.Driver.Navigate().GoToUrl(_web.Https("/login"));
        _browser.Follow(By.LinkText("Forgot your password?"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/forgot-password").ToString()));
        Assert.That(_browser.Field("identifier").GetAttribute("autocomplete"), Is.EqualTo("username"));
        _browser.Screenshot("forgot-password");
        _browser.DocumentationShot("forgot-password");
        _browser.Type("identifier", Alice);
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("If this account exists, a link was sent to its secondary email and phone."));
        _browser.Screenshot("forgot-password-sent");

        // The gateway's view (outbox dispatch): the link, to the secondary email and the phone.
        var dispatched = JsonDocument.Parse((await _web.Server.Cli.RunAsync("outbox", "dispatch", "--json")).Stdout).RootElement.EnumerateArray()
            .Select(message => (Recipient: message.GetProperty("recipient").GetString()!, Body: message.GetProperty("body").GetString()!))
            .Where(message => message.Body.Contains("/reset?token=", StringComparison.Ordinal)).ToList();
        Assert.That(dispatched.Select(message => message.Recipient), Is.EquivalentTo(new[] { AlicePhone, AliceEmail }));
        var token = ResetLink().Match(dispatched[0].Body).Groups[1].Value;
        Assert.That(token, Is.Not.Empty, dispatched[0].Body);

        _browser.Driver.Navigate().GoToUrl(_web.Https("/reset?token=" + token));
        Assert.That(_browser.Field("totp").GetAttribute("autocomplete"), Is.EqualTo("one-time-code"), "2FA is on: the code is asked");
        _browser.Screenshot("reset");
        _browser.Type("new-password", NewPassword);
        _browser.Type("confirm-new-password", NewPassword);
        _browser.Type("totp", WrongCode(_aliceSecret));
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("Not accepted:"), "a token alone does not reset a 2FA account");
        _browser.Screenshot("reset-wrong-code");
        _browser.Type("new-password", NewPassword);
        _browser.Type("confirm-new-password", NewPassword);
        _browser.Type("totp", NextCode(_aliceSecret, ref lastStep));
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("Your manager account's password is changed."));
        _browser.Screenshot("reset-done");

        _browser.Driver.Navigate().GoToUrl(_web.Https("/reset?token=" + token));
        Assert.That(_browser.MainText, Does.Contain("This link is unknown, already used or expired"));
        _browser.Screenshot("reset-used");
        LogIn(Alice, NewPassword, NextCode(_aliceSecret, ref lastStep));
        Assert.That(_browser.MainText, Does.Contain($"Logged in as {Alice} (Alice Smith). 2FA is on."));
    }

    [Test]
    public async Task Flow7SendsAForgottenLoginIdentifierToThePhoneAndNeverShowsIt()
    {
        _browser.Driver.Navigate().GoToUrl(_web.Https("/login"));
        _browser.Follow(By.LinkText("Forgot your login identifier?"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/forgot-login").ToString()));
        Assert.That(_browser.Field("phone").GetAttribute("autocomplete"), Is.EqualTo("tel"));
        _browser.Screenshot("forgot-login");
        _browser.Type("phone", "079 123 45 67");
        _browser.Submit();
        Assert.That(_browser.DescriptionOf("phone"), Does.Contain("international form"));
        _browser.Screenshot("forgot-login-bad-number");
        _browser.Type("phone", "+41 79 123 45 67");
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("If an account has this phone number, its login identifier was sent"));
        Assert.That(_browser.Driver.PageSource, Does.Not.Contain(Alice).And.Not.Contain("alice"));
        _browser.Screenshot("forgot-login-sent");
        var sent = (await OutboxAsync()).Where(message => message.Body.Contains("The login identifier of your manager account", StringComparison.Ordinal));
        Assert.That(sent.Select(message => (message.Channel, message.Recipient, message.Body)), Is.EquivalentTo(new[]
        {
            ("sms", AlicePhone, $"The login identifier of your manager account is {Alice}."),
            ("email", AliceEmail, $"The login identifier of your manager account is {Alice}."),
        }));
    }

    [Test]
    public async Task Flow9EnrolsTwoFactorFromTheQrPageThenTurnsItOffWithACode()
    {
        var lastStep = 0L;
        LogIn(Carol, CarolPassword);
        _browser.Follow(By.LinkText("Turn 2FA on"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/account/2fa").ToString()));
        var qr = _browser.Driver.FindElement(By.CssSelector("main svg.qr"));
        Assert.That(qr.Displayed && qr.Size.Width >= 150 && qr.Size.Width == qr.Size.Height, Is.True, $"QR code shown at {qr.Size}");
        Assert.That(_browser.FitsWidth(), Is.True);
        _browser.Screenshot("2fa-enrol");
        _browser.DocumentationShot("account-2fa-enrol", phone: true);
        var secret = Base32Text.Decode(SecretShown().Match(_browser.MainText).Groups[1].Value);
        Assert.That(secret, Has.Length.EqualTo(Totp.SecretBytes));

        _browser.Type("totp", WrongCode(secret));
        _browser.Submit();
        Assert.That(_browser.DescriptionOf("totp"), Does.StartWith("The code is wrong"));
        _browser.Screenshot("2fa-enrol-wrong-code");
        Assert.That((await _web.Server.Cli.RunAsync("account", "show", Carol)).Stdout, Does.Match(@"2FA:\s+off"));
        _browser.Type("totp", NextCode(secret, ref lastStep));
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("Two-factor authentication is on").And.Contain("You are logged out everywhere."));
        _browser.Screenshot("2fa-on");

        LogIn(Carol, CarolPassword, NextCode(secret, ref lastStep));
        Assert.That(_browser.MainText, Does.Contain($"Logged in as {Carol} (Carol Jones). 2FA is on."));
        _browser.Follow(By.LinkText("Turn 2FA off"));
        Assert.That(_browser.Driver.FindElements(By.CssSelector("svg")), Is.Empty);
        _browser.Screenshot("2fa-disable");
        _browser.Type("totp", NextCode(secret, ref lastStep));
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("Two-factor authentication is off"));
        _browser.Screenshot("2fa-off");
        LogIn(Carol, CarolPassword);
        Assert.That(_browser.MainText, Does.Contain("2FA is off."));
    }

    private void LogIn(string identifier, string password, string totp = "")
    {
        _browser.Driver.Navigate().GoToUrl(_web.Https("/login"));
        _browser.Type("identifier", identifier);
        _browser.Type("password", password);
        _browser.Type("totp", totp);
        _browser.Submit();
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/account").ToString()), _browser.MainText);
    }

    private async Task<List<(string Channel, string Recipient, string Body)>> OutboxAsync()
    {
        var outbox = await _web.Server.Cli.RunAsync("outbox", "list", "--json");
        return [.. JsonDocument.Parse(outbox.Stdout).RootElement.EnumerateArray().Select(message =>
            (message.GetProperty("channel").GetString()!, message.GetProperty("recipient").GetString()!, message.GetProperty("body").GetString()!))];
    }

    /// <summary>
    /// The code of the earliest step after <paramref name="lastStep"/> that the server accepts (one
    /// step either side of now, each step once), as an app user typing the next code would: the
    /// previous step only while it has 10 seconds left to reach the server; past the next step, waits
    /// for the clock (only when three codes fall in one 30-second step).
    /// </summary>
    private static string NextCode(byte[] secret, ref long lastStep)
    {
        var now = DateTimeOffset.UtcNow;
        var earliest = now.ToUnixTimeSeconds() % Totp.StepSeconds <= Totp.StepSeconds - 10 ? Totp.StepAt(now) - Totp.AllowedDrift : Totp.StepAt(now);
        var step = Math.Max(lastStep + 1, earliest);
        while (step > Totp.StepAt(DateTimeOffset.UtcNow) + Totp.AllowedDrift)
        {
            Thread.Sleep(200);
        }
        lastStep = step;
        return Totp.Code(secret, step);
    }

    /// <summary>A 6-digit code that is none of the codes accepted now (this step and one either side).</summary>
    private static string WrongCode(byte[] secret)
    {
        var now = Totp.StepAt(DateTimeOffset.UtcNow);
        var accepted = Enumerable.Range(-2, 5).Select(drift => Totp.Code(secret, now + drift)).ToHashSet();
        return Enumerable.Range(0, 10).Select(n => new string((char)('0' + n), Totp.Digits)).First(code => !accepted.Contains(code));
    }

    [GeneratedRegex("username ([a-z]+[0-9]+) ")]
    private static partial Regex RecoveryUsername();

    [GeneratedRegex(@"/reset\?token=([A-Za-z0-9_-]+)")]
    private static partial Regex ResetLink();

    [GeneratedRegex("Secret: ([A-Z2-7]+)")]
    private static partial Regex SecretShown();
}
