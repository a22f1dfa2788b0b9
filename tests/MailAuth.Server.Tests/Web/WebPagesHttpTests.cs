using System.Net;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 16's pages at the HTTP level, on one real server: the security headers, the cookies'
/// attributes, antiforgery, one answer for an unknown address and a wrong password, and the
/// manager session (a new id at login, ended at logout).
/// </summary>
[TestFixture]
public sealed class WebPagesHttpTests
{
    private const string Account = WebServer.Address;
    private const string AccountPassword = "account password 1";

    [Test]
    public async Task PagesAreSecuredFormsNeedTheirTokenAndRefusalsSayNothingMore()
    {
        await using var web = await WebServer.StartAsync();
        using var browser = new WebPageClient(web);

        var form = await browser.GetAsync("/test");
        Assert.That(form.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(form.ContentType, Is.EqualTo("text/html; charset=utf-8"));
        Assert.That(form.Headers["Content-Security-Policy"],
            Is.EqualTo("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"));
        Assert.That(form.Headers["Strict-Transport-Security"], Is.EqualTo("max-age=31536000"));
        Assert.That(form.Headers["X-Frame-Options"], Is.EqualTo("DENY"));
        Assert.That(form.Body, Does.Contain("<input type=\"email\" name=\"address\" id=\"address\"").And.Contain("autocomplete=\"username\"")
            .And.Contain("<label for=\"password\">").And.Contain("autocomplete=\"current-password\"").And.Not.Contain("<script").And.Not.Contain("style="));
        Assert.That(browser.SetCookies.Single(), Does.StartWith("__Host-mailauth-form=")
            .And.Contains("path=/").And.Contains("secure").And.Contains("samesite=strict").And.Contains("httponly"));
        var css = await browser.GetAsync("/site.css");
        Assert.That((css.Status, css.ContentType), Is.EqualTo((HttpStatusCode.OK, "text/css; charset=utf-8")));

        // A cross-site post has neither the token nor (SameSite=Strict) the cookie; each alone is refused too.
        var noToken = await browser.PostAsync("/test", withToken: false, ("address", WebServer.Address), ("password", WebServer.Password));
        Assert.That(noToken.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(noToken.Body, Does.Contain("This form was not accepted"));
        var cookie = browser.Cookies["__Host-mailauth-form"];
        browser.Cookies.Clear();
        var noCookie = await browser.PostAsync("/test", withToken: true, ("address", WebServer.Address), ("password", WebServer.Password));
        Assert.That(noCookie.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        browser.Cookies["__Host-mailauth-form"] = cookie;
        Assert.That(await web.Server.LoggedAsync("protocol=web"), Is.False, "a refused form reached the authenticator");

        // An unknown address and a wrong password: the same status and page, but for the address typed back.
        await browser.GetAsync("/test");
        var unknown = await browser.PostAsync("/test", true, ("address", "nobody@example.org"), ("password", WebServer.Password));
        var wrong = await browser.PostAsync("/test", true, ("address", WebServer.Address), ("password", "not the password"));
        Assert.That(unknown.Status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(WebPageClient.WithoutToken(unknown.Body).Replace("nobody@example.org", "ADDRESS", StringComparison.Ordinal),
            Is.EqualTo(WebPageClient.WithoutToken(wrong.Body).Replace(WebServer.Address, "ADDRESS", StringComparison.Ordinal)));
        Assert.That(wrong.Status, Is.EqualTo(unknown.Status));
        Assert.That(wrong.Body, Does.Contain("role=\"alert\">The address or the password is wrong.</p>")
            .And.Contain("aria-describedby=\"form-error\" aria-invalid=\"true\""));

        var tested = await browser.PostAsync("/test", true, ("address", WebServer.Address), ("password", WebServer.Password));
        Assert.That(tested.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(tested.Body, Does.Contain($"<td>{WebServer.HostName}</td>").And.Contain("<td>STARTTLS</td>").And.Contain($"<td>{WebServer.Address}</td>"));
        Assert.That(await web.Server.LoggedAsync("protocol=web mechanism=FORM"), Is.True, web.Server.Log);
    }

    [Test]
    public async Task AManagerSessionGetsANewIdAtLoginAndEndsAtLogoutAndAtAPasswordChangeElsewhere()
    {
        await using var web = await WebServer.StartAsync();
        var cli = web.Server.Cli;
        Assert.That((await cli.RunWithInputAsync(AccountPassword + "\n", "account", "add", Account, "--name", "Alice Smith",
            "--phone", "+41791234567", "--secondary-email", "alice@elsewhere.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", Account, Account, "--can-change-password")).ExitCode, Is.Zero);
        using var browser = new WebPageClient(web);

        Assert.That((await browser.GetAsync("/account")) is { Status: HttpStatusCode.SeeOther, Location: "/login" });
        await browser.GetAsync("/login");
        var unknown = await browser.PostAsync("/login", true, ("identifier", "nobody@example.org"), ("password", AccountPassword), ("totp", ""));
        var wrong = await browser.PostAsync("/login", true, ("identifier", Account), ("password", "not it"), ("totp", ""));
        Assert.That((unknown.Status, wrong.Status), Is.EqualTo((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden)));
        Assert.That(WebPageClient.WithoutToken(unknown.Body).Replace("nobody@example.org", "ID", StringComparison.Ordinal),
            Is.EqualTo(WebPageClient.WithoutToken(wrong.Body).Replace(Account, "ID", StringComparison.Ordinal)));

        var first = await browser.PostAsync("/login", true, ("identifier", Account), ("password", AccountPassword), ("totp", ""));
        Assert.That((first.Status, first.Location), Is.EqualTo((HttpStatusCode.SeeOther, "/account")));
        var sessionCookie = browser.SetCookies.Last();
        Assert.That(sessionCookie, Does.StartWith("__Host-mailauth-session=")
            .And.Contains("path=/").And.Contains("secure").And.Contains("samesite=strict").And.Contains("httponly").And.Not.Contains("expires"));
        var firstSession = browser.Cookies["__Host-mailauth-session"];
        var account = await browser.GetAsync("/account");
        Assert.That(account.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(account.Body, Does.Contain($"<td>{WebServer.Address}</td><td>See it; change its password.</td>"));

        // Logging in again (or as someone else) on the same browser: the old id is ended, a new one given.
        await browser.PostAsync("/login", true, ("identifier", Account), ("password", AccountPassword), ("totp", ""));
        var secondSession = browser.Cookies["__Host-mailauth-session"];
        Assert.That(secondSession, Is.Not.EqualTo(firstSession));
        browser.Cookies["__Host-mailauth-session"] = firstSession;
        Assert.That((await browser.GetAsync("/account")).Location, Is.EqualTo("/login"));
        browser.Cookies["__Host-mailauth-session"] = secondSession;

        var page = await browser.GetAsync("/account");
        Assert.That(page.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await browser.PostAsync("/logout", withToken: false)).Status, Is.EqualTo(HttpStatusCode.BadRequest));
        var loggedOut = await browser.PostAsync("/logout");
        Assert.That(loggedOut.Body, Does.Contain("You are logged out"));
        Assert.That(browser.Cookies.ContainsKey("__Host-mailauth-session"), Is.False);
        browser.Cookies["__Host-mailauth-session"] = secondSession;
        Assert.That((await browser.GetAsync("/account")).Location, Is.EqualTo("/login"));
        Assert.That(await web.Server.LoggedAsync($"account login identifier={Account} remote=127.0.0.1 result=Succeeded"), Is.True);

        // The password changed elsewhere (the admin's CLI): the open session ends at its next page.
        await browser.GetAsync("/login");
        await browser.PostAsync("/login", true, ("identifier", Account), ("password", AccountPassword), ("totp", ""));
        Assert.That((await browser.GetAsync("/account")).Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await cli.RunWithInputAsync("account password 2\n", "account", "passwd", Account)).ExitCode, Is.Zero);
        Assert.That((await browser.GetAsync("/account")) is { Status: HttpStatusCode.SeeOther, Location: "/login" });
    }

    [Test]
    public async Task TheAccountPasswordPageChecksTheCurrentOneEndsEverySessionAndTheUnifiedMailboxFollows()
    {
        const string Unified = "unified password 1";
        const string Changed = "unified password 2";
        await using var web = await WebServer.StartAsync();
        var cli = web.Server.Cli;
        Assert.That((await cli.RunWithInputAsync(AccountPassword + "\n", "account", "add", Account, "--name", "Alice Smith",
            "--phone", "+41791234567", "--secondary-email", "alice@elsewhere.example")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", Account, Account, "--can-change-password")).ExitCode, Is.Zero);
        Assert.That((await cli.RunWithInputAsync(Unified + "\n", "account", "set-mailbox-password", Account, Account, "--unify")).ExitCode, Is.Zero);
        using var browser = new WebPageClient(web);
        using var otherBrowser = new WebPageClient(web);
        foreach (var client in new[] { otherBrowser, browser })
        {
            await client.GetAsync("/login");
            Assert.That((await client.PostAsync("/login", true, ("identifier", Account), ("password", Unified), ("totp", ""))).Location, Is.EqualTo("/account"));
        }
        Assert.That((await browser.GetAsync("/account")).Body, Does.Contain("<a href=\"/account/password\">Change your account password</a>"));

        var form = await browser.GetAsync("/account/password");
        Assert.That(form.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(form.Body, Does.Contain($"unified with the mailbox {Account}: its password will change too")
            .And.Contain("name=\"password\" id=\"password\" autocomplete=\"current-password\"")
            .And.Contain("name=\"new-password\" id=\"new-password\" autocomplete=\"new-password\"")
            .And.Contain("name=\"confirm-new-password\" id=\"confirm-new-password\" autocomplete=\"new-password\"").And.Not.Contain("name=\"totp\""));
        Assert.That((await browser.PostAsync("/account/password", withToken: false, ("password", Unified), ("new-password", Changed),
            ("confirm-new-password", Changed))).Status, Is.EqualTo(HttpStatusCode.BadRequest));

        // A wrong current password goes through the login's throttled path and changes nothing.
        var wrong = await browser.PostAsync("/account/password", true, ("password", "not it"), ("new-password", Changed), ("confirm-new-password", Changed));
        Assert.That(wrong.Status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(wrong.Body, Does.Contain("role=\"alert\">The current password is wrong.</p>")
            .And.Contain("name=\"password\" id=\"password\" aria-describedby=\"form-error\" aria-invalid=\"true\""));
        Assert.That(await web.Server.LoggedAsync($"account login identifier={Account} remote=127.0.0.1 result=Failed reason=wrong password"), Is.True);

        var refused = await browser.PostAsync("/account/password", true, ("password", Unified), ("new-password", "tab\there"), ("confirm-new-password", "tab\there"));
        Assert.That(refused.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(refused.Body, Does.Contain("<p class=\"error\" id=\"new-password-error\">Not accepted: the password contains control characters")
            .And.Contain("name=\"new-password\" id=\"new-password\" aria-describedby=\"new-password-error\" aria-invalid=\"true\""));

        var changed = await browser.PostAsync("/account/password", true, ("password", Unified), ("new-password", Changed), ("confirm-new-password", Changed));
        Assert.That(changed.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(changed.Body, Does.Contain($"and so is the password of {Account}: they are unified.")
            .And.Contain("Log in again with the new password."));
        Assert.That(browser.Cookies.ContainsKey("__Host-mailauth-session"), Is.False);
        foreach (var client in new[] { browser, otherBrowser })
        {
            Assert.That((await client.GetAsync("/account")) is { Status: HttpStatusCode.SeeOther, Location: "/login" });
        }

        await browser.GetAsync("/login");
        Assert.That((await browser.PostAsync("/login", true, ("identifier", Account), ("password", Unified), ("totp", ""))).Status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await browser.PostAsync("/login", true, ("identifier", Account), ("password", Changed), ("totp", ""))).Location, Is.EqualTo("/account"));
        var mailbox = await cli.RunWithInputAsync(Changed + "\n", "auth", "test", Account);
        Assert.That((mailbox.ExitCode, mailbox.Stdout.Trim()), Is.EqualTo((0, $"ok: {Account} accepts this password")));
        Assert.That((await cli.RunWithInputAsync(Unified + "\n", "auth", "test", Account)).ExitCode, Is.EqualTo(1));
    }
}
