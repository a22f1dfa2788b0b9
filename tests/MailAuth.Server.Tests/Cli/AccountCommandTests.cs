using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Cli;

/// <summary>The account verbs end to end, with the provider's own example (julie@entreprise-familiale.xyz, 123-Abc).</summary>
[TestFixture]
public sealed partial class AccountCommandTests
{
    private const string Julie = "julie@entreprise-familiale.xyz";

    private MailAuthProcess _cli = null!;

    [SetUp]
    public async Task Provision()
    {
        _cli = new MailAuthProcess();
        await _cli.RunAsync("domain", "add", "entreprise-familiale.xyz");
        await _cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", Julie);
        Expect(await _cli.RunWithInputAsync("Account-1\n", "account", "add", Julie, "--name", "Julie Martin",
            "--phone", "+41 79 123 45 67", "--secondary-email", "julie.martin@yahoo.example"), 0, $"account {Julie} added");
        Expect(await _cli.RunAsync("account", "grant", Julie, Julie, "--can-change-password"), 0,
            $"{Julie} may access {Julie} and change its password");
    }

    [TearDown]
    public void Stop() => _cli.Dispose();

    [Test]
    public async Task UnificationAndRecoveryThroughTheCli()
    {
        Refused(await _cli.RunWithInputAsync("Account-1\n", "auth", "test", Julie), 1, null, "failed: wrong password");

        var offered = await _cli.RunWithInputAsync("Mailbox-2\n", "account", "set-mailbox-password", Julie, Julie);
        Assert.That(offered.ExitCode, Is.Zero, offered.ToString());
        Assert.That(offered.Stdout, Does.Contain("unification offered: run again with --unify"));

        Expect(await _cli.RunWithInputAsync("Unified-3\n", "account", "set-mailbox-password", Julie, Julie, "--unify"), 0,
            "mailbox password changed; account and mailbox passwords are now unified");
        Expect(await _cli.RunWithInputAsync("Unified-3\n", "auth", "test", Julie), 0, $"ok: {Julie} accepts this password");
        Expect(await _cli.RunWithInputAsync("Unified-3\n", "account", "login", Julie), 0, $"ok: logged in as {Julie}");

        Expect(await _cli.RunWithInputAsync("Both-4\n", "account", "passwd", Julie), 0, $"account password changed; unified mailbox {Julie} changed too");
        Expect(await _cli.RunWithInputAsync("Both-4\n", "auth", "test", Julie), 0, $"ok: {Julie} accepts this password");

        Expect(await _cli.RunAsync("domain", "remove", "entreprise-familiale.xyz", "--with-mailboxes"), 0,
            "domain entreprise-familiale.xyz removed with 1 mailbox(es)");
        Refused(await _cli.RunWithInputAsync("Both-4\n", "account", "login", Julie), 1, null, "failed: wrong identifier, password or 2FA code (with 2FA on, give the current code with --totp)");

        var outbox = await _cli.RunAsync("outbox", "list", "--json");
        var messages = JsonDocument.Parse(outbox.Stdout).RootElement.EnumerateArray().ToList();
        Assert.That(messages.Select(m => m.GetProperty("channel").GetString()), Is.EquivalentTo(new[] { "email", "sms" }));
        var recovery = RecoveryUsername().Match(messages[0].GetProperty("body").GetString()!).Groups[1].Value;
        Assert.That(recovery, Does.Match("^jm[0-9]{6}$"));

        Refused(await _cli.RunWithInputAsync("Both-4\n", "account", "login", recovery), 1, null,
            $"recovery: the password is right, but a new login identifier must be chosen first ('account complete-recovery {recovery} --new-login ADDRESS')");
        Expect(await _cli.RunWithInputAsync("Both-4\n", "account", "complete-recovery", recovery, "--new-login", "julie@yahoo.example"), 0,
            "recovery complete: log in with julie@yahoo.example from now on");
        Expect(await _cli.RunWithInputAsync("Both-4\n", "account", "login", "julie@yahoo.example"), 0, "ok: logged in as julie@yahoo.example");

        var audit = (await _cli.RunAsync("audit", "list")).Stdout;
        Assert.That(audit, Does.Contain("unification.offered").And.Contain("unification.accepted")
            .And.Contain("unification.dissolved").And.Contain("account.recovery-started").And.Contain("account.recovery-completed"));
        Assert.That(audit, Does.Not.Contain("Both-4").And.Not.Contain("Unified-3").And.Not.Contain("123-Abc"));
    }

    [Test]
    public async Task RefusalsAndUsage()
    {
        await _cli.RunWithInputAsync("Boss-1\n", "account", "add", "boss@gmail.example", "--name", "Big Boss",
            "--phone", "+41790000001", "--secondary-email", "boss@else.example");
        await _cli.RunAsync("account", "grant", "boss@gmail.example", Julie);
        Refused(await _cli.RunWithInputAsync("X-1\n", "account", "set-mailbox-password", Julie, Julie, "--unify"), 1,
            "error: unification refused, nothing changed: the account is not the only manager account with access to the mailbox");
        Refused(await _cli.RunWithInputAsync("X-1\n", "account", "set-mailbox-password", "boss@gmail.example", Julie), 1,
            $"error: account boss@gmail.example has no permission to change the password of {Julie}");
        Refused(await _cli.RunWithInputAsync("X-1\n", "account", "add", Julie, "--name", "J", "--phone", "+41791234567",
            "--secondary-email", "j@else.example"), 1, $"error: an account with login identifier {Julie} already exists");
        Refused(await _cli.RunWithInputAsync("X-1\n", "account", "add", "new@else.example", "--name", "N", "--phone", "0791234567",
            "--secondary-email", "j@else.example"), 1, "error: the phone number must be in international form, starting with + and the country code");
        Refused(await _cli.RunAsync("account", "grant", Julie, "nobody@entreprise-familiale.xyz"), 1,
            "error: mailbox nobody@entreprise-familiale.xyz does not exist");
        Refused(await _cli.RunAsync("account", "show", "nobody@else.example"), 1, "error: no manager account 'nobody@else.example'");
        Refused(await _cli.RunWithInputAsync("pw\n", "account", "complete-reset", "not-a-token"), 1, "error: the reset token is invalid, used or expired");
        Refused(await _cli.RunAsync("account", "add", "x@else.example", "--name", "X"), 2, null);
        Refused(await _cli.RunAsync("account", "2fa"), 2, null);
        Refused(await _cli.RunAsync("account", "find-login"), 2, null);
    }

    [Test]
    public async Task ResetFindLoginAndTwoFactor()
    {
        Expect(await _cli.RunAsync("account", "reset-password", Julie), 0, "if this account exists, a reset token was sent to its secondary email and phone");
        Expect(await _cli.RunAsync("account", "reset-password", "nobody@else.example"), 0, "if this account exists, a reset token was sent to its secondary email and phone");
        var listed = JsonDocument.Parse((await _cli.RunAsync("outbox", "list", "--json")).Stdout).RootElement[0];
        Assert.That(listed.GetProperty("body").GetString(), Does.Contain("): [secret]."), "a listing never shows the token");
        Assert.That(listed.GetProperty("secretHeld").GetBoolean(), Is.True);
        var dispatched = JsonDocument.Parse((await _cli.RunAsync("outbox", "dispatch", "--json")).Stdout).RootElement;
        Assert.That(dispatched.GetArrayLength(), Is.EqualTo(2), "email and SMS, handed to the gateway once");
        var token = ResetToken().Match(dispatched[0].GetProperty("body").GetString()!).Groups[1].Value;
        Assert.That(token, Has.Length.GreaterThan(30));
        Assert.That(JsonDocument.Parse((await _cli.RunAsync("outbox", "dispatch", "--json")).Stdout).RootElement.GetArrayLength(), Is.Zero);
        Assert.That(Encoding.Latin1.GetString(_cli.AllStoredBytes()), Does.Not.Contain(token), "no usable token at rest");
        Expect(await _cli.RunWithInputAsync("Reset-2\n", "account", "complete-reset", token), 0, $"password of {Julie} reset");
        Refused(await _cli.RunWithInputAsync("Reset-3\n", "account", "complete-reset", token), 1, "error: the reset token is invalid, used or expired");
        Expect(await _cli.RunWithInputAsync("Reset-2\n", "account", "login", Julie), 0, $"ok: logged in as {Julie}");

        Expect(await _cli.RunAsync("account", "find-login", "--phone", "+41 79 123 45 67"), 0,
            "if an account has this phone number, its login identifier was sent to it");
        var show = JsonDocument.Parse((await _cli.RunAsync("account", "show", Julie, "--json")).Stdout).RootElement;
        Assert.That(show.GetProperty("twoFactor").GetBoolean(), Is.False);

        var enabled = await _cli.RunAsync("account", "2fa", "enable", Julie);
        Assert.That(enabled.Stdout, Does.StartWith("otpauth://totp/MailAuth:julie%40entreprise-familiale.xyz?secret="));
        // Right password without a code, or with a wrong one: the same answer as a wrong password.
        Refused(await _cli.RunWithInputAsync("Reset-2\n", "account", "login", Julie), 1, null, "failed: wrong identifier, password or 2FA code (with 2FA on, give the current code with --totp)");
        Refused(await _cli.RunWithInputAsync("Reset-2\n", "account", "login", Julie, "--totp", "12345"), 1, null, "failed: wrong identifier, password or 2FA code (with 2FA on, give the current code with --totp)");
        Refused(await _cli.RunWithInputAsync("Wrong-9\n", "account", "login", Julie), 1, null, "failed: wrong identifier, password or 2FA code (with 2FA on, give the current code with --totp)");
        Expect(await _cli.RunAsync("account", "2fa", "disable", Julie), 0, "2FA disabled");
        Refused(await _cli.RunAsync("account", "2fa", "disable", Julie), 1, $"error: account {Julie} has no 2FA");
    }

    [Test]
    public async Task ManagerLoginsAreThrottledAcrossCliRuns()
    {
        // Every run is a process of its own: the counters live in the database.
        for (var i = 0; i < 5; i++)
        {
            Refused(await _cli.RunWithInputAsync($"guess-{i}\n", "account", "login", Julie), 1, null,
                "failed: wrong identifier, password or 2FA code (with 2FA on, give the current code with --totp)");
        }
        // Throttled, the right password is not verified; saying so tells nothing about it.
        Refused(await _cli.RunWithInputAsync("Account-1\n", "account", "login", Julie), 1, null,
            "failed: too many failed attempts for this identifier or from this address, try again later");
        Assert.That((await _cli.RunAsync("audit", "list")).Stdout, Does.Not.Contain("guess-"));
    }

    [GeneratedRegex("username ([a-z]+[0-9]+) ")]
    private static partial Regex RecoveryUsername();

    [GeneratedRegex(@"Reset token \(single use, valid until [^)]*\): ([A-Za-z0-9_-]+)\.")]
    private static partial Regex ResetToken();
}
