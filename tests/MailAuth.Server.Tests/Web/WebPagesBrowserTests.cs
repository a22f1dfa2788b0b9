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
    private const string AccountPassword = "Julie's account pass";

    private WebServer _web = null!;
    private Chromium _browser = null!;
    private byte[] _totpSecret = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _web = await WebServer.StartAsync();
        var cli = _web.Server.Cli;
        Assert.That((await cli.RunWithInputAsync(BobPassword + "\n", "mailbox", "add", Bob)).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync(AccountPassword + "\n", "account", "add", WebServer.Address, "--name", "Alice Smith",
            "--phone", "+41791234567", "--secondary-email", "alice@elsewhere.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", WebServer.Address, WebServer.Address, "--can-change-password")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", WebServer.Address, Bob)).ExitCode, Is.Zero);
        var enabled = await cli.RunAsync("account", "2fa", "enable", WebServer.Address);
        var secret = enabled.Stdout.Split("secret=")[1].Split('&')[0];
        _totpSecret = Base32Decode(secret);
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
        _browser.Driver.FindElement(OpenQA.Selenium.By.LinkText("Test an email address and password")).Click();
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

        _browser.Submit();
        Assert.That(_browser.MainText, Does.Contain("You are logged out"));
        _browser.Driver.Navigate().GoToUrl(_web.Https("/account"));
        Assert.That(_browser.Driver.Url, Is.EqualTo(_web.Https("/login").ToString()));
    }

    /// <summary>RFC 4648 base32, as in the otpauth:// URI the CLI prints.</summary>
    private static byte[] Base32Decode(string text)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('='))
        {
            buffer = (buffer << 5) | Alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }
        return [.. bytes];
    }
}
