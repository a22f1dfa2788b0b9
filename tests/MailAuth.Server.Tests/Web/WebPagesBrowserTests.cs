using MailAuth.Core.Accounts;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 16's pages in a real browser (chromium through chromium-driver), each flow end to end on a
/// real <c>mailauth serve</c>, at a phone's width, with a screenshot of each page in the test output.
/// </summary>
[TestFixture]
[Category("External")]
[NonParallelizable]
public sealed class WebPagesBrowserTests
{
    private const string Bob = "bob@example.org";
    private const string BobPassword = "bob's old password";
    private const string AccountPassword = "Alice's account pass";
    private const string Julie = "julie@entreprise-familiale.xyz";
    private const string JuliePassword = "Julie's own account";

    private WebServer _web = null!;
    private Chromium _browser = null!;
    private byte[] _totpSecret = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // Each page view is three requests (page, style sheet, favicon) and the fixture makes about
        // sixty views in well under a minute: more than the default 120 requests a minute per client.
        _web = await WebServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Web__MaxRequestsPerMinutePerAddress"] = "1000" });
        var cli = _web.Server.Cli;
        Assert.That((await cli.RunWithInputAsync(BobPassword + "\n", "mailbox", "add", Bob)).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync(AccountPassword + "\n", "account", "add", WebServer.Address, "--name", "Alice Smith",
            "--phone", "+41791234567", "--secondary-email", "alice@elsewhere.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", WebServer.Address, WebServer.Address, "--can-change-password")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", WebServer.Address, Bob)).ExitCode, Is.Zero);
        var enabled = await cli.RunAsync("account", "2fa", "enable", WebServer.Address);
        var secret = enabled.Stdout.Split("secret=")[1].Split('&')[0];
        _totpSecret = Base32Text.Decode(secret);
        // The seeds' example: julie's mailbox, and a manager account with the same address.
        Assert.That((await cli.RunAsync("domain", "add", "entreprise-familiale.xyz")).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", Julie)).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync(JuliePassword + "\n", "account", "add", Julie, "--name", "Julie Martin",
            "--phone", "+41791112233", "--secondary-email", "julie@yahoo.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", Julie, Julie, "--can-change-password")).ExitCode, Is.Zero);
        _browser = new Chromium(Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots", "web-pages"));
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
    public void Flow1TestsAPairAndShowsTheClientSettings()
    {
        _browser.Driver.Navigate().GoToUrl(_web.Https("/"));
        Assert.That(_browser.Driver.Title, Is.EqualTo("Mail and account · MailAuth"));
        Assert.That(_browser.FitsWidth(), Is.True);
        _browser.Screenshot("start");
        _browser.DocumentationShot("home", phone: true);
        _browser.Follow(OpenQA.Selenium.By.LinkText("Test an email address and password"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/test").ToString()));

        _browser.Type("address", WebServer.Address);
        _browser.Type("password", "not the password");
        _browser.Submit();
        Assert.That(_browser.DescriptionOf("password"), Is.EqualTo("The address or the password is wrong."));
        Assert.That(_browser.Field("address").GetAttribute("value"), Is.EqualTo(WebServer.Address));
        _browser.Screenshot("test-refused");

        _browser.Type("password", WebServer.Password);
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain($"{WebServer.Address} can log in.")
            .And.Contain($"{WebServer.HostName} {_web.Server.ImapPort} STARTTLS {WebServer.Address}"));
        Assert.That(_browser.FitsWidth(), Is.True);
        _browser.Screenshot("test-settings");
        _browser.DocumentationShot("test-settings");
    }

    [Test]
    public async Task Flow2ChangesAMailboxPasswordKnowingTheCurrentOne()
    {
        const string NewPassword = "bob's brand new one";
        _browser.Driver.Navigate().GoToUrl(_web.Https("/mailbox/password"));
        Assert.That(_browser.Field("new-password").GetAttribute("autocomplete"), Is.EqualTo("new-password"));
        _browser.Type("address", Bob);
        _browser.Type("password", BobPassword);
        _browser.Type("new-password", NewPassword);
        _browser.Type("confirm-new-password", NewPassword + "x");
        _browser.Submit();
        Assert.That(_browser.DescriptionOf("confirm-new-password"), Is.EqualTo("The two new passwords differ: type the same one twice."));
        _browser.Screenshot("mailbox-password-mismatch");

        _browser.Type("password", BobPassword);
        _browser.Type("new-password", NewPassword);
        _browser.Type("confirm-new-password", NewPassword);
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain($"The password of {Bob} is changed."));
        _browser.Screenshot("mailbox-password-changed");
        Assert.That((await _web.Server.Cli.RunWithInputAsync(NewPassword + "\n", "auth", "test", Bob)).ExitCode, Is.Zero);
        Assert.That((await _web.Server.Cli.RunWithInputAsync(BobPassword + "\n", "auth", "test", Bob)).ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void Flow3LogsInWithTwoFactorSeesTheMailboxesAndLogsOut()
    {
        _browser.Driver.Navigate().GoToUrl(_web.Https("/account"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/login").ToString()));
        Assert.That(_browser.Field("totp").GetAttribute("autocomplete"), Is.EqualTo("one-time-code"));
        _browser.DocumentationShot("login");
        _browser.Type("identifier", WebServer.Address);
        _browser.Type("password", AccountPassword);
        _browser.Submit();
        Assert.That(_browser.DescriptionOf("totp"), Does.EndWith("The login identifier, the password or the 2FA code is wrong."));
        _browser.Screenshot("login-refused");

        _browser.Type("password", AccountPassword);
        _browser.Type("totp", Totp.Code(_totpSecret, Totp.StepAt(DateTimeOffset.UtcNow)));
        _browser.Submit();
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/account").ToString()));
        Assert.That(_browser.MainText, Does.Contain($"Logged in as {WebServer.Address} (Alice Smith). 2FA is on.")
            .And.Contain($"{WebServer.Address} See it; change its password.")
            .And.Contain($"{Bob} See it (changing its password is not allowed)."));
        Assert.That(_browser.FitsWidth(), Is.True);
        _browser.Screenshot("account");
        _browser.DocumentationShot("account", phone: true);

        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("You are logged out"));
        _browser.Driver.Navigate().GoToUrl(_web.Https("/account"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/login").ToString()));
    }

    [Test]
    public async Task Flow4OffersUnificationAcceptsItAndShowsItDissolvedWhenASecondAccountGetsAccess()
    {
        const string Unified = "one for both 2026";
        LogIn(Julie, JuliePassword);
        _browser.Follow(OpenQA.Selenium.By.LinkText(Julie));
        Assert.That(_browser.MainText, Does.Contain("Unification offered").And.Contain("one password for the manager and for mail"));
        Assert.That(_browser.Field("unify").GetAttribute("type"), Is.EqualTo("checkbox"));
        _browser.Screenshot("unification-offered");
        _browser.DocumentationShot("unification-offered");
        _browser.Type("new-password", Unified);
        _browser.Type("confirm-new-password", Unified);
        _browser.Field("unify").Click();
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain($"{Julie} and your manager account are now unified: both have the new password.")
            .And.Contain("you are logged out everywhere"));
        _browser.Screenshot("unified");
        var cli = _web.Server.Cli;
        Assert.That((await cli.RunWithInputAsync(Unified + "\n", "auth", "test", Julie)).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync(Unified + "\n", "account", "login", Julie)).ExitCode, Is.Zero);
        _browser.Driver.Navigate().GoToUrl(_web.Https("/account"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/login").ToString()), "the session ended with the password change");

        LogIn(Julie, Unified);
        Assert.That(_browser.MainText, Does.Contain($"{Julie} See it; change its password. Unified: this account and the mailbox share one password."));
        _browser.Screenshot("account-unified");

        // A second account gets access: the pair comes apart, and the page says why no offer is made.
        Assert.That((await cli.RunWithInputAsync("Marc's password\n", "account", "add", "marc@elsewhere.example", "--name", "Marc Martin",
            "--phone", "+41794445566", "--secondary-email", "marc@yahoo.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", "marc@elsewhere.example", Julie)).ExitCode, Is.Zero);
        _browser.Driver.Navigate().GoToUrl(_web.Https("/account"));
        Assert.That(_browser.MainText, Does.Contain($"{Julie} See it; change its password.").And.Not.Contain("Unified:"));
        _browser.Follow(OpenQA.Selenium.By.LinkText(Julie));
        Assert.That(_browser.MainText, Does.Contain("is not offered because the account is not the only manager account with access to the mailbox."));
        Assert.That(_browser.Driver.PageSource, Does.Not.Contain("id=\"unify\""));
        _browser.Screenshot("unification-not-offered");
        _browser.Type("new-password", "mailbox only now");
        _browser.Type("confirm-new-password", "mailbox only now");
        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain($"The password of {Julie} is changed. Your manager account's password is unchanged."));
        Assert.That((await cli.RunWithInputAsync(Unified + "\n", "account", "login", Julie)).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync("mailbox only now\n", "auth", "test", Julie)).ExitCode, Is.Zero);
    }

    private void LogIn(string identifier, string password)
    {
        _browser.Driver.Navigate().GoToUrl(_web.Https("/login"));
        _browser.Type("identifier", identifier);
        _browser.Type("password", password);
        _browser.Submit();
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/account").ToString()), _browser.MainText);
    }
}
