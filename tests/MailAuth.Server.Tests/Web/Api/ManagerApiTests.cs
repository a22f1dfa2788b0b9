using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using MailAuth.Core.Accounts;

namespace MailAuth.Server.Tests.Web.Api;

/// <summary>
/// Issue 16's manager-account flows as the JSON API, on one real <c>mailauth serve</c>: each call's
/// success and refusals, the bearer session ended by logout and by a password change made with the
/// CLI, the throttle after wrong passwords, and the same answer for unknown and existing names.
/// Each test uses accounts of its own.
/// </summary>
[TestFixture]
public sealed partial class ManagerApiTests
{
    private const string Alice = WebServer.Address;
    private const string AccountPassword = "account password 1";

    private WebServer _web = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // The per-minute request budget is not what these tests are about.
        _web = await WebServer.StartAsync(new Dictionary<string, string> { ["MailAuth__Web__MaxRequestsPerMinutePerAddress"] = "5000" });
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _web.DisposeAsync();

    [Test]
    public async Task ALoginGivesATokenThatShowsTheMailboxesAndEndsAtLogoutAndAtAPasswordChangeMadeWithTheCli()
    {
        await AddAccountAsync(Alice, "+41790000001");
        Assert.That((await _web.Server.Cli.RunAsync("account", "grant", Alice, Alice, "--can-change-password")).ExitCode, Is.Zero);
        using var api = new ApiClient(_web);

        var form = await api.PostAsync("/api/v1/account/login", new { identifier = Alice, password = AccountPassword }, contentType: "application/x-www-form-urlencoded");
        Assert.That((form.Status, form.Result), Is.EqualTo((HttpStatusCode.UnsupportedMediaType, "invalid")));
        var missing = await api.PostAsync("/api/v1/account/login", new { identifier = Alice });
        Assert.That((missing.Status, missing.Result), Is.EqualTo((HttpStatusCode.BadRequest, "invalid")));

        var login = await api.PostAsync("/api/v1/account/login", new { identifier = Alice.ToUpperInvariant(), password = AccountPassword });
        Assert.That(login.Status, Is.EqualTo(HttpStatusCode.OK), login.Text);
        Assert.That((login["identifier"].GetString(), login["tokenType"].GetString(), login["idleTimeoutSeconds"].GetInt32(), login["maxLifetimeSeconds"].GetInt32()),
            Is.EqualTo((Alice, "Bearer", 1800, 43200)));
        Assert.That(login.Headers["Cache-Control"], Is.EqualTo("no-store"));
        var token = login["token"].GetString()!;

        var account = await api.GetAsync("/api/v1/account", token);
        Assert.That(account.Status, Is.EqualTo(HttpStatusCode.OK), account.Text);
        Assert.That((account["identifier"].GetString(), account["name"].GetString(), account["twoFactorEnabled"].GetBoolean()), Is.EqualTo((Alice, "Holder", false)));
        var mailbox = account["mailboxes"][0];
        Assert.That((mailbox.GetProperty("address").GetString(), mailbox.GetProperty("canChangePassword").GetBoolean(), mailbox.GetProperty("unified").GetBoolean(),
            mailbox.GetProperty("unificationOffered").GetBoolean(), mailbox.GetProperty("unificationFailedConditions").GetArrayLength()), Is.EqualTo((Alice, true, false, true, 0)));
        Assert.That(account["unificationExplanation"].GetString(), Does.Contain("It comes apart by itself when another account gets access"));

        var none = await api.GetAsync("/api/v1/account");
        Assert.That((none.Status, none.Result, none.Headers["WWW-Authenticate"]), Is.EqualTo((HttpStatusCode.Unauthorized, "failed", "Bearer")));
        var forged = await api.GetAsync("/api/v1/account", token[..^2] + "AA");
        Assert.That((forged.Status, forged.Headers["WWW-Authenticate"]), Is.EqualTo((HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\"")));

        var logout = await api.PostAsync("/api/v1/account/logout", new { }, token);
        Assert.That((logout.Status, logout.Result), Is.EqualTo((HttpStatusCode.OK, "loggedOut")));
        Assert.That((await api.GetAsync("/api/v1/account", token)).Status, Is.EqualTo(HttpStatusCode.Unauthorized), "logged out");

        // A password change made elsewhere (the admin's CLI) ends the token at its next use.
        var second = await api.LoginAsync(Alice, AccountPassword);
        Assert.That((await api.GetAsync("/api/v1/account", second)).Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await _web.Server.Cli.RunWithInputAsync("account password 2\n", "account", "passwd", Alice)).ExitCode, Is.Zero);
        Assert.That((await api.GetAsync("/api/v1/account", second)).Status, Is.EqualTo(HttpStatusCode.Unauthorized), "ended by the CLI's change");
        Assert.That(_web.Server.Log, Does.Not.Contain(token).And.Not.Contain(second).And.Not.Contain(AccountPassword));
    }

    [Test]
    public async Task AnAccountChangesAMailboxPasswordWithTheUnificationOfferAndIsToldWhichConditionFails()
    {
        const string Julie = "julie@family.example";
        await AddMailboxAsync(Julie, "mailbox password 1");
        await AddMailboxAsync("office@family.example", "mailbox password 1");
        await AddMailboxAsync("other@family.example", "mailbox password 1");
        await AddAccountAsync(Julie, "+41790000002");
        var cli = _web.Server.Cli;
        Assert.That((await cli.RunAsync("account", "grant", Julie, Julie, "--can-change-password")).ExitCode, Is.Zero);
        Assert.That((await cli.RunAsync("account", "grant", Julie, "office@family.example")).ExitCode, Is.Zero);
        using var api = new ApiClient(_web);
        var token = await api.LoginAsync(Julie, AccountPassword);

        var notMine = await api.PostAsync("/api/v1/account/mailbox-password", new { mailbox = "other@family.example", newPassword = "x y z w" }, token);
        var unknown = await api.PostAsync("/api/v1/account/mailbox-password", new { mailbox = "nobody@family.example", newPassword = "x y z w" }, token);
        Assert.That((notMine.Status, notMine.Result), Is.EqualTo((HttpStatusCode.NotFound, "notFound")));
        Assert.That(unknown.Text, Is.EqualTo(notMine.Text), "nothing tells whether another mailbox exists");
        var notAllowed = await api.PostAsync("/api/v1/account/mailbox-password", new { mailbox = "office@family.example", newPassword = "x y z w" }, token);
        Assert.That((notAllowed.Status, notAllowed.Result), Is.EqualTo((HttpStatusCode.Forbidden, "notAllowed")));
        var empty = await api.PostAsync("/api/v1/account/mailbox-password", new { mailbox = Julie, newPassword = "" }, token);
        Assert.That((empty.Status, empty.Result, empty["message"].GetString()), Is.EqualTo((HttpStatusCode.BadRequest, "invalid", "the password is empty")));
        var wrongType = await api.PostAsync("/api/v1/account/mailbox-password", new { mailbox = Julie, newPassword = "p", unify = "yes" }, token);
        Assert.That(wrongType.Status, Is.EqualTo(HttpStatusCode.BadRequest));

        // The three conditions hold: offered; accepted, both change and every session of the account ends.
        var unified = await api.PostAsync("/api/v1/account/mailbox-password", new { mailbox = Julie, newPassword = "one password", unify = true }, token);
        Assert.That(unified.Status, Is.EqualTo(HttpStatusCode.OK), unified.Text);
        Assert.That((unified.Result, unified["accountPasswordChanged"].GetBoolean(), unified["sessionsEnded"].GetBoolean()), Is.EqualTo(("unified", true, true)));
        Assert.That((await api.GetAsync("/api/v1/account", token)).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        var mailboxTest = await api.PostAsync("/api/v1/mailbox/test", new { address = Julie, password = "one password" });
        Assert.That(mailboxTest.Status, Is.EqualTo(HttpStatusCode.OK), "the mailbox has the new password");
        token = await api.LoginAsync(Julie, "one password");
        Assert.That((await api.GetAsync("/api/v1/account", token))["mailboxes"].EnumerateArray().Single(m => m.GetProperty("address").GetString() == Julie)
            .GetProperty("unified").GetBoolean(), Is.True);

        // A second account gets access: the unification dissolves, and asking again names the failing condition.
        await AddAccountAsync("partner@elsewhere.example", "+41790000003");
        Assert.That((await cli.RunAsync("account", "grant", "partner@elsewhere.example", Julie)).ExitCode, Is.Zero);
        var shown = (await api.GetAsync("/api/v1/account", token))["mailboxes"].EnumerateArray().Single(m => m.GetProperty("address").GetString() == Julie);
        Assert.That((shown.GetProperty("unified").GetBoolean(), shown.GetProperty("unificationOffered").GetBoolean()), Is.EqualTo((false, false)));
        Assert.That(shown.GetProperty("unificationFailedConditions")[0].GetString(), Is.EqualTo("the account is not the only manager account with access to the mailbox"));
        var refused = await api.PostAsync("/api/v1/account/mailbox-password", new { mailbox = Julie, newPassword = "another one", unify = true }, token);
        Assert.That((refused.Status, refused.Result), Is.EqualTo((HttpStatusCode.Conflict, "unificationRefused")), refused.Text);
        Assert.That(refused["failedConditions"].EnumerateArray().Select(c => c.GetString()), Is.EqualTo(new[] { "the account is not the only manager account with access to the mailbox" }));
        var alone = await api.PostAsync("/api/v1/account/mailbox-password", new { mailbox = Julie, newPassword = "another one" }, token);
        Assert.That((alone.Status, alone.Result, alone["accountPasswordChanged"].GetBoolean()), Is.EqualTo((HttpStatusCode.OK, "changed", false)));
        Assert.That((await api.GetAsync("/api/v1/account", token)).Status, Is.EqualTo(HttpStatusCode.OK), "the account's password did not change: the session stays");

        var audit = (await cli.RunAsync("audit", "list")).Stdout;
        Assert.That(audit, Does.Contain("from 127.0.0.1"), "changes are audited with the client address");
    }

    [Test]
    public async Task TheAccountPasswordAndTwoFactorChangeOnlyWithTheCurrentSecretsAndEndTheSessions()
    {
        const string Bob = "bob@elsewhere.example";
        await AddAccountAsync(Bob, "+41790000004");
        using var api = new ApiClient(_web);
        var token = await api.LoginAsync(Bob, AccountPassword);

        var wrong = await api.PostAsync("/api/v1/account/password", new { password = "not it", newPassword = "account password 2" }, token);
        Assert.That((wrong.Status, wrong.Result), Is.EqualTo((HttpStatusCode.Unauthorized, "failed")));
        var changed = await api.PostAsync("/api/v1/account/password", new { password = AccountPassword, newPassword = "account password 2" }, token);
        Assert.That((changed.Status, changed.Result, changed["alsoChanged"].GetArrayLength()), Is.EqualTo((HttpStatusCode.OK, "changed", 0)), changed.Text);
        Assert.That((await api.GetAsync("/api/v1/account", token)).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        token = await api.LoginAsync(Bob, "account password 2");

        var enrol = await api.PostAsync("/api/v1/account/2fa/enrol", new { }, token);
        Assert.That(enrol.Status, Is.EqualTo(HttpStatusCode.OK), enrol.Text);
        Assert.That(enrol["otpauthUri"].GetString(), Does.StartWith("otpauth://totp/MailAuth:"));
        var secret = Base32Text.Decode(enrol["secret"].GetString()!);
        var enrolment = enrol["enrolment"].GetString()!;
        var now = Totp.StepAt(DateTimeOffset.UtcNow);
        var badCode = await api.PostAsync("/api/v1/account/2fa/confirm", new { enrolment, totp = WrongCode(secret) }, token);
        Assert.That((badCode.Status, badCode.Result), Is.EqualTo((HttpStatusCode.Unauthorized, "failed")));
        var altered = await api.PostAsync("/api/v1/account/2fa/confirm", new { enrolment = enrolment[..^4] + "AAAA", totp = Totp.Code(secret, now) }, token);
        Assert.That((altered.Status, altered.Result), Is.EqualTo((HttpStatusCode.BadRequest, "invalid")));
        var enabled = await api.PostAsync("/api/v1/account/2fa/confirm", new { enrolment, totp = Totp.Code(secret, now - 1) }, token);
        Assert.That((enabled.Status, enabled.Result), Is.EqualTo((HttpStatusCode.OK, "enabled")), enabled.Text);
        Assert.That((await api.GetAsync("/api/v1/account", token)).Status, Is.EqualTo(HttpStatusCode.Unauthorized), "2FA changed: the session ended");

        var noCode = await api.PostAsync("/api/v1/account/login", new { identifier = Bob, password = "account password 2" });
        var badPassword = await api.PostAsync("/api/v1/account/login", new { identifier = Bob, password = "not it", totp = Totp.Code(secret, now) });
        Assert.That((noCode.Status, noCode.Text), Is.EqualTo((badPassword.Status, badPassword.Text)), "nothing tells that the password was right");
        token = await api.LoginAsync(Bob, "account password 2", Totp.Code(secret, now));
        Assert.That((await api.PostAsync("/api/v1/account/2fa/enrol", new { }, token)).Status, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That((await api.PostAsync("/api/v1/account/2fa/disable", new { totp = WrongCode(secret) }, token)).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        var disabled = await api.PostAsync("/api/v1/account/2fa/disable", new { totp = Totp.Code(secret, now + 1) }, token);
        Assert.That((disabled.Status, disabled.Result), Is.EqualTo((HttpStatusCode.OK, "disabled")), disabled.Text);
        Assert.That((await _web.Server.Cli.RunAsync("account", "show", Bob)).Stdout, Does.Match(@"2FA:\s+off"));
    }

    [Test]
    public async Task AForgottenPasswordIsResetWithTheTokenOnceAndAForgottenIdentifierGoesToThePhoneWithTheSameAnswerForUnknownNames()
    {
        const string Carol = "carol@elsewhere.example";
        await AddAccountAsync(Carol, "+41790000005");
        using var api = new ApiClient(_web);
        var before = await api.LoginAsync(Carol, AccountPassword);

        var known = await api.PostAsync("/api/v1/account/forgot-password", new { identifier = Carol });
        var unknown = await api.PostAsync("/api/v1/account/forgot-password", new { identifier = "nobody@elsewhere.example" });
        Assert.That((known.Status, known.Result), Is.EqualTo((HttpStatusCode.OK, "requested")));
        Assert.That((unknown.Status, unknown.Text), Is.EqualTo((known.Status, known.Text)), "the same answer whether or not the account exists");
        Assert.That((await api.PostAsync("/api/v1/account/forgot-password", new { identifier = " " })).Status, Is.EqualTo(HttpStatusCode.BadRequest));

        var message = (await DispatchAsync()).Last(m => m.Recipient == "+41790000005").Body;
        var link = ResetLink().Match(message);
        Assert.That(link.Groups[1].Value, Is.EqualTo($"https://{WebServer.HostName}:{_web.HttpsPort}/reset"), message);
        var token = link.Groups[2].Value;
        var badToken = await api.PostAsync("/api/v1/account/reset", new { token = "not-a-token", newPassword = "account password 3" });
        Assert.That((badToken.Status, badToken.Result), Is.EqualTo((HttpStatusCode.Unauthorized, "failed")));
        var weak = await api.PostAsync("/api/v1/account/reset", new { token, newPassword = "" });
        Assert.That((weak.Status, weak.Result), Is.EqualTo((HttpStatusCode.BadRequest, "invalid")));
        var reset = await api.PostAsync("/api/v1/account/reset", new { token, newPassword = "account password 3" });
        Assert.That((reset.Status, reset.Result, reset["sessionsEnded"].GetBoolean()), Is.EqualTo((HttpStatusCode.OK, "changed", true)), reset.Text);
        Assert.That((await api.PostAsync("/api/v1/account/reset", new { token, newPassword = "account password 4" })).Status, Is.EqualTo(HttpStatusCode.Unauthorized), "used once");
        Assert.That((await api.GetAsync("/api/v1/account", before)).Status, Is.EqualTo(HttpStatusCode.Unauthorized), "the reset ended the session");
        await api.LoginAsync(Carol, "account password 3");

        var phoneKnown = await api.PostAsync("/api/v1/account/forgot-login", new { phone = "+41 79 000 00 05" });
        var phoneUnknown = await api.PostAsync("/api/v1/account/forgot-login", new { phone = "+41 79 000 00 99" });
        Assert.That((phoneKnown.Status, phoneKnown.Result), Is.EqualTo((HttpStatusCode.OK, "sent")));
        Assert.That((phoneUnknown.Status, phoneUnknown.Text), Is.EqualTo((phoneKnown.Status, phoneKnown.Text)));
        Assert.That(phoneKnown.Text, Does.Not.Contain(Carol), "never shown");
        var malformed = await api.PostAsync("/api/v1/account/forgot-login", new { phone = "079 000 00 05" });
        Assert.That((malformed.Status, malformed.Result), Is.EqualTo((HttpStatusCode.BadRequest, "invalid")));
        Assert.That((await DispatchAsync()).Last(m => m.Recipient == "+41790000005").Body, Is.EqualTo($"The login identifier of your manager account is {Carol}."));
        Assert.That(_web.Server.Log, Does.Not.Contain(token));
    }

    [Test]
    public async Task WrongPasswordsAreThrottledWith429OnTheApiAndTheLoginPageAndUnknownIdentifiersGetTheSameAnswers()
    {
        const string Dave = "dave@elsewhere.example";
        await AddAccountAsync(Dave, "+41790000006");
        using var api = new ApiClient(_web);

        var wrong = await api.PostAsync("/api/v1/account/login", new { identifier = Dave, password = "guess 0" });
        var nobody = await api.PostAsync("/api/v1/account/login", new { identifier = "nobody@elsewhere.example", password = "guess 0" });
        Assert.That((wrong.Status, wrong.Result), Is.EqualTo((HttpStatusCode.Unauthorized, "failed")));
        Assert.That((nobody.Status, nobody.Text), Is.EqualTo((wrong.Status, wrong.Text)), "the same answer for an unknown identifier");

        ApiClient.Answer answer;
        var attempts = 1;
        do
        {
            answer = await api.PostAsync("/api/v1/account/login", new { identifier = Dave, password = $"guess {attempts++}" });
        }
        while (answer.Status == HttpStatusCode.Unauthorized && attempts < 10);
        Assert.That((answer.Status, answer.Result), Is.EqualTo((HttpStatusCode.TooManyRequests, "throttled")), $"after {attempts} attempts: {answer.Text}");
        Assert.That(int.Parse(answer.Headers["Retry-After"], System.Globalization.CultureInfo.InvariantCulture), Is.Positive);
        var right = await api.PostAsync("/api/v1/account/login", new { identifier = Dave, password = AccountPassword });
        Assert.That(right.Status, Is.EqualTo(HttpStatusCode.TooManyRequests), "throttled: not even the right password is verified");

        using var browser = new WebPageClient(_web);
        await browser.GetAsync("/login");
        var page = await browser.PostAsync("/login", true, ("identifier", Dave), ("password", AccountPassword), ("totp", ""));
        Assert.That((page.Status, page.Headers.ContainsKey("Retry-After")), Is.EqualTo((HttpStatusCode.TooManyRequests, true)), "the page maps it the same way");
    }

    [Test]
    public async Task WhenTheDomainGoesTheRecoveryUsernameLogsInAndChoosesANewIdentifier()
    {
        const string Julie = "julie@cancelled.example";
        const string Taken = "taken@elsewhere.example";
        await AddMailboxAsync(Julie, "mailbox password 1");
        await AddAccountAsync(Julie, "+41790000007");
        await AddAccountAsync(Taken, "+41790000008");
        Assert.That((await _web.Server.Cli.RunAsync("domain", "remove", "cancelled.example", "--with-mailboxes")).ExitCode, Is.Zero);
        var sms = (await DispatchAsync()).Last(m => m.Recipient == "+41790000007").Body;
        var recovery = RecoveryUsername().Match(sms).Groups[1].Value;
        Assert.That(recovery, Does.Match("^[a-z]+[0-9]+$"), sms);
        using var api = new ApiClient(_web);

        var login = await api.PostAsync("/api/v1/account/login", new { identifier = recovery, password = AccountPassword });
        Assert.That((login.Status, login.Result), Is.EqualTo((HttpStatusCode.Forbidden, "recoveryRequired")));
        var wrong = await api.PostAsync("/api/v1/account/recovery", new { recoveryUsername = recovery, password = "not it", newIdentifier = "julie@new.example" });
        Assert.That((wrong.Status, wrong.Result), Is.EqualTo((HttpStatusCode.Unauthorized, "failed")));
        var malformed = await api.PostAsync("/api/v1/account/recovery", new { recoveryUsername = recovery, password = AccountPassword, newIdentifier = "not an address" });
        Assert.That((malformed.Status, malformed.Result), Is.EqualTo((HttpStatusCode.BadRequest, "invalid")));
        var taken = await api.PostAsync("/api/v1/account/recovery", new { recoveryUsername = recovery, password = AccountPassword, newIdentifier = Taken });
        Assert.That((taken.Status, taken.Result), Is.EqualTo((HttpStatusCode.Conflict, "conflict")), taken.Text);
        var notInRecovery = await api.PostAsync("/api/v1/account/recovery", new { recoveryUsername = Taken, password = AccountPassword, newIdentifier = "t@new.example" });
        Assert.That((notInRecovery.Status, notInRecovery.Result), Is.EqualTo((HttpStatusCode.Forbidden, "notAllowed")));

        var recovered = await api.PostAsync("/api/v1/account/recovery", new { recoveryUsername = recovery, password = AccountPassword, newIdentifier = "Julie@New.Example" });
        Assert.That((recovered.Status, recovered["identifier"].GetString()), Is.EqualTo((HttpStatusCode.OK, "julie@new.example")), recovered.Text);
        var account = await api.GetAsync("/api/v1/account", recovered["token"].GetString());
        Assert.That((account.Status, account["identifier"].GetString()), Is.EqualTo((HttpStatusCode.OK, "julie@new.example")));
        Assert.That((await api.PostAsync("/api/v1/account/login", new { identifier = recovery, password = AccountPassword })).Status, Is.EqualTo(HttpStatusCode.Unauthorized),
            "the recovery username is spent");
    }

    private async Task AddAccountAsync(string identifier, string phone) =>
        Assert.That((await _web.Server.Cli.RunWithInputAsync(AccountPassword + "\n", "account", "add", identifier, "--name", "Holder",
            "--phone", phone, "--secondary-email", "secondary+" + phone[1..] + "@mail.example")).ExitCode, Is.Zero);

    private async Task AddMailboxAsync(string address, string password)
    {
        await _web.Server.Cli.RunAsync("domain", "add", address[(address.IndexOf('@', StringComparison.Ordinal) + 1)..]);
        Assert.That((await _web.Server.Cli.RunWithInputAsync(password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
    }

    private async Task<List<(string Channel, string Recipient, string Body)>> DispatchAsync()
    {
        // The gateway's view (the CLI's dispatch): the messages as sent, secrets in place; each is dispatched once.
        var outbox = await _web.Server.Cli.RunAsync("outbox", "dispatch", "--json");
        return [.. JsonDocument.Parse(outbox.Stdout).RootElement.EnumerateArray().Select(m =>
            (m.GetProperty("channel").GetString()!, m.GetProperty("recipient").GetString()!, m.GetProperty("body").GetString()!))];
    }

    internal static string WrongCode(byte[] secret)
    {
        var step = Totp.StepAt(DateTimeOffset.UtcNow);
        var right = new[] { step - 1, step, step + 1 }.Select(s => Totp.Code(secret, s)).ToHashSet();
        return Enumerable.Range(0, 1000).Select(i => i.ToString("000000", System.Globalization.CultureInfo.InvariantCulture)).First(code => !right.Contains(code));
    }

    [GeneratedRegex("username ([a-z]+[0-9]+) ")]
    private static partial Regex RecoveryUsername();

    [GeneratedRegex(@"(https://[^\s?]+)\?token=([A-Za-z0-9_-]+)")]
    private static partial Regex ResetLink();
}
