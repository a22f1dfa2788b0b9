using System.CommandLine;
using System.Text.Json;
using MailAuth.Core.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

/// <summary>The manager-account realm: accounts, grants, unification, recovery, resets and 2FA.</summary>
internal static class AccountCommands
{
    public static Command Create()
    {
        var account = new Command("account", "Manager accounts (web manager logins), separate from mailboxes");
        foreach (var command in new[] { Add(), Passwd(), List(), Show(), Grant(), Revoke(), SetMailboxPassword(), Login(), CompleteRecovery(), ResetPassword(), CompleteReset(), FindLogin(), TwoFactor() })
        {
            account.Add(command);
        }
        return account;
    }

    private static Command Add()
    {
        var login = LoginArgument();
        var name = new Option<string>("--name") { Description = "The holder's name (recovery usernames start with its initials)", Required = true };
        var phone = new Option<string>("--phone") { Description = "Mobile phone in international form, e.g. +41 79 123 45 67", Required = true };
        var secondary = new Option<string>("--secondary-email") { Description = "Where recovery and reset messages go", Required = true };
        var add = new Command("add", "Add an account; its password is read from stdin or prompted") { login, name, phone, secondary };
        add.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var password = PasswordInput.Read(parse, "Account password: ", confirm: true);
            var added = await Accounts(services).AddAsync(parse.GetRequiredValue(login), password, parse.GetRequiredValue(name),
                parse.GetRequiredValue(phone), parse.GetRequiredValue(secondary), ct);
            await parse.Output().WriteLineAsync($"account {added} added");
            return ExitCodes.Success;
        }));
        return add;
    }

    private static Command Passwd()
    {
        var login = LoginArgument();
        var passwd = new Command("passwd", "Set the account's own password (a unified mailbox follows)") { login };
        passwd.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var password = PasswordInput.Read(parse, "New account password: ", confirm: true);
            var unified = await Accounts(services).SetPasswordAsync(parse.GetRequiredValue(login), password, ct);
            await parse.Output().WriteLineAsync(unified is null
                ? "account password changed"
                : $"account password changed; unified mailbox {unified} changed too");
            return ExitCodes.Success;
        }));
        return passwd;
    }

    private static Command List()
    {
        var json = JsonOption();
        var list = new Command("list", "List accounts") { json };
        list.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var accounts = await Accounts(services).ListAsync(ct);
            if (parse.GetValue(json))
            {
                await parse.Output().WriteLineAsync(JsonSerializer.Serialize(accounts.Select(Describe), CliContext.Json));
            }
            else
            {
                foreach (var a in accounts)
                {
                    var state = a.State == AccountState.Active ? "active" : $"in recovery (was {a.FormerLogin})";
                    await parse.Output().WriteLineAsync($"{a.Identifier}\t{state}\t{a.Name}\t{a.Grants.Count} mailbox(es){(a.UnifiedMailbox is null ? "" : $"\tunified with {a.UnifiedMailbox}")}");
                }
            }
            return ExitCodes.Success;
        }));
        return list;
    }

    private static Command Show()
    {
        var login = LoginArgument();
        var json = JsonOption();
        var show = new Command("show", "Show one account") { login, json };
        show.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var a = await Accounts(services).ShowAsync(parse.GetRequiredValue(login), ct);
            if (parse.GetValue(json))
            {
                await parse.Output().WriteLineAsync(JsonSerializer.Serialize(Describe(a), CliContext.Json));
                return ExitCodes.Success;
            }
            await parse.Output().WriteLineAsync($"login:            {a.Login?.ToString() ?? "(none: in recovery)"}");
            if (a.RecoveryUsername is not null)
            {
                await parse.Output().WriteLineAsync($"recovery username: {a.RecoveryUsername} (former login {a.FormerLogin})");
            }
            await parse.Output().WriteLineAsync($"state:            {(a.State == AccountState.Active ? "active" : "in recovery")}");
            await parse.Output().WriteLineAsync($"name:             {a.Name}");
            await parse.Output().WriteLineAsync($"phone:            {a.Phone}");
            await parse.Output().WriteLineAsync($"secondary email:  {a.SecondaryEmail}");
            await parse.Output().WriteLineAsync($"2FA:              {(a.TwoFactorEnabled ? "on" : "off")}");
            await parse.Output().WriteLineAsync($"unified with:     {a.UnifiedMailbox?.ToString() ?? "-"}");
            foreach (var grant in a.Grants)
            {
                await parse.Output().WriteLineAsync($"access:           {grant.Mailbox}{(grant.CanChangePassword ? " (may change its password)" : "")}");
            }
            return ExitCodes.Success;
        }));
        return show;
    }

    private static Command Grant()
    {
        var login = LoginArgument();
        var mailbox = MailboxArgument();
        var canChange = new Option<bool>("--can-change-password") { Description = "Also allow the account to change the mailbox password" };
        var grant = new Command("grant", "Give an account access to a mailbox (again: updates the permission)") { login, mailbox, canChange };
        grant.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            await Accounts(services).GrantAsync(parse.GetRequiredValue(login), parse.GetRequiredValue(mailbox), parse.GetValue(canChange), ct);
            await parse.Output().WriteLineAsync($"{parse.GetRequiredValue(login)} may access {parse.GetRequiredValue(mailbox)}{(parse.GetValue(canChange) ? " and change its password" : "")}");
            return ExitCodes.Success;
        }));
        return grant;
    }

    private static Command Revoke()
    {
        var login = LoginArgument();
        var mailbox = MailboxArgument();
        var revoke = new Command("revoke", "Remove an account's access to a mailbox") { login, mailbox };
        revoke.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            await Accounts(services).RevokeAsync(parse.GetRequiredValue(login), parse.GetRequiredValue(mailbox), ct);
            await parse.Output().WriteLineAsync($"{parse.GetRequiredValue(login)} no longer has access to {parse.GetRequiredValue(mailbox)}");
            return ExitCodes.Success;
        }));
        return revoke;
    }

    private static Command SetMailboxPassword()
    {
        var login = LoginArgument();
        var mailbox = MailboxArgument();
        var unify = new Option<bool>("--unify") { Description = "Accept unification: set the account password to the same value and keep the two equal" };
        var setMailboxPassword = new Command("set-mailbox-password", "As the account holder, set a mailbox's password (stdin)") { login, mailbox, unify };
        setMailboxPassword.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var password = PasswordInput.Read(parse, "New mailbox password: ", confirm: true);
            var outcome = await Accounts(services).SetMailboxPasswordAsync(
                parse.GetRequiredValue(login), parse.GetRequiredValue(mailbox), password, parse.GetValue(unify), ct);
            switch (outcome.Result)
            {
                case MailboxPasswordResult.UnificationRefused:
                    await parse.Error().WriteLineAsync("error: unification refused, nothing changed: " + string.Join("; ", outcome.Conditions.Failed));
                    return ExitCodes.Refused;
                case MailboxPasswordResult.Unified:
                    await parse.Output().WriteLineAsync("mailbox password changed; account and mailbox passwords are now unified");
                    break;
                case MailboxPasswordResult.BothChangedWhileUnified:
                    await parse.Output().WriteLineAsync("mailbox password changed; the unified account password changed too");
                    break;
                case MailboxPasswordResult.ChangedUnificationOffered:
                    await parse.Output().WriteLineAsync("mailbox password changed");
                    await parse.Output().WriteLineAsync("unification offered: run again with --unify to use this password for the account too");
                    break;
                default:
                    await parse.Output().WriteLineAsync("mailbox password changed");
                    break;
            }
            return ExitCodes.Success;
        }));
        return setMailboxPassword;
    }

    private static Command Login()
    {
        var totp = TotpOption();
        var identifier = new Argument<string>("identifier") { Description = "Login identifier, or recovery username" };
        var loginCommand = new Command("login", "Verify a manager login (password from stdin): exit 0 ok, 1 failed") { identifier, totp };
        loginCommand.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var password = PasswordInput.Read(parse, "Password: ", confirm: false);
            var result = await Accounts(services).LoginAsync(parse.GetRequiredValue(identifier), password, parse.GetValue(totp), CliCaller, ct);
            switch (result.Status)
            {
                case AccountLoginStatus.Succeeded:
                    await parse.Output().WriteLineAsync($"ok: logged in as {result.Identifier}");
                    return ExitCodes.Success;
                case AccountLoginStatus.MustCompleteRecovery:
                    await parse.Output().WriteLineAsync("recovery: the password is right, but a new login identifier must be chosen first " +
                        $"('account complete-recovery {result.Identifier} --new-login ADDRESS')");
                    return ExitCodes.Refused;
                case AccountLoginStatus.TemporarilyUnavailable:
                    await parse.Output().WriteLineAsync("failed: too busy to verify now, try again");
                    return ExitCodes.Refused;
                case AccountLoginStatus.Throttled:
                    await parse.Output().WriteLineAsync("failed: too many failed attempts for this identifier or from this address, try again later");
                    return ExitCodes.Refused;
                default:
                    // One answer whatever was wrong, as for any other client (the log says which).
                    await parse.Output().WriteLineAsync("failed: wrong identifier, password or 2FA code (with 2FA on, give the current code with --totp)");
                    return ExitCodes.Refused;
            }
        }));
        return loginCommand;
    }

    private static Command CompleteRecovery()
    {
        var totp = TotpOption();
        var recoveryUsername = new Argument<string>("recovery-username") { Description = "The username sent by SMS and email" };
        var newLogin = new Option<string>("--new-login") { Description = "The new login identifier (an email address)", Required = true };
        var completeRecovery = new Command("complete-recovery", "Log in with the recovery username and the usual password (stdin), and choose a new login identifier")
        {
            recoveryUsername, newLogin, totp,
        };
        completeRecovery.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var password = PasswordInput.Read(parse, "Password: ", confirm: false);
            var chosen = await Accounts(services).CompleteRecoveryAsync(
                parse.GetRequiredValue(recoveryUsername), password, parse.GetValue(totp), parse.GetRequiredValue(newLogin), CliCaller, ct);
            await parse.Output().WriteLineAsync($"recovery complete: log in with {chosen} from now on");
            return ExitCodes.Success;
        }));
        return completeRecovery;
    }

    private static Command ResetPassword()
    {
        var login = LoginArgument();
        var resetPassword = new Command("reset-password", "Send a single-use reset token (30 minutes) to the account's secondary email and phone") { login };
        resetPassword.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            await Accounts(services).RequestPasswordResetAsync(parse.GetRequiredValue(login), CliCaller, ct);
            await parse.Output().WriteLineAsync("if this account exists, a reset token was sent to its secondary email and phone");
            return ExitCodes.Success;
        }));
        return resetPassword;
    }

    private static Command CompleteReset()
    {
        var totp = TotpOption();
        var token = new Argument<string>("token") { Description = "The reset token received" };
        var completeReset = new Command("complete-reset", "Set a new account password (stdin) with a reset token; with 2FA on, --totp too") { token, totp };
        completeReset.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var password = PasswordInput.Read(parse, "New account password: ", confirm: true);
            var (resetFor, unified) = await Accounts(services).CompletePasswordResetAsync(parse.GetRequiredValue(token), password, parse.GetValue(totp), ct);
            await parse.Output().WriteLineAsync(unified is null
                ? $"password of {resetFor} reset"
                : $"password of {resetFor} reset; unified mailbox {unified} changed too");
            return ExitCodes.Success;
        }));
        return completeReset;
    }

    private static Command FindLogin()
    {
        var phoneNumber = new Option<string>("--phone") { Description = "The mobile number on file", Required = true };
        var findLogin = new Command("find-login", "Send the login identifier of the accounts with this phone number to that phone and their secondary email")
        {
            phoneNumber,
        };
        findLogin.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            await Accounts(services).SendLoginIdentifierAsync(parse.GetRequiredValue(phoneNumber), requester: null, ct);
            await parse.Output().WriteLineAsync("if an account has this phone number, its login identifier was sent to it");
            return ExitCodes.Success;
        }));
        return findLogin;
    }

    private static Command TwoFactor()
    {
        var login = LoginArgument();
        var twoFactor = new Command("2fa", "Two-factor authentication (TOTP, RFC 6238)");
        var enable = new Command("enable", "Turn 2FA on; prints the otpauth:// URI once, for the authenticator app") { login };
        enable.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            await parse.Output().WriteLineAsync(await Accounts(services).EnableTwoFactorAsync(parse.GetRequiredValue(login), ct));
            return ExitCodes.Success;
        }));
        var disable = new Command("disable", "Turn 2FA off") { login };
        disable.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            await Accounts(services).DisableTwoFactorAsync(parse.GetRequiredValue(login), ct);
            await parse.Output().WriteLineAsync("2FA disabled");
            return ExitCodes.Success;
        }));
        twoFactor.Add(enable);
        twoFactor.Add(disable);
        return twoFactor;
    }

    private static Argument<string> LoginArgument() => new("login") { Description = "The account's login identifier (an email address, hosted here or not)" };
    private static Argument<string> MailboxArgument() => new("mailbox") { Description = "A mailbox address hosted here" };
    private static Option<bool> JsonOption() => new("--json") { Description = "Print JSON" };
    private static Option<string?> TotpOption() => new("--totp") { Description = "The current 2FA code, when 2FA is on" };

    private static ManagerAccountService Accounts(IServiceProvider services) => services.GetRequiredService<ManagerAccountService>();

    /// <summary>
    /// The client a CLI run counts as for the account throttle and the reset-request limit: every
    /// local run is one network, like any other client (the counters are in the store, so they
    /// hold across runs).
    /// </summary>
    private static readonly System.Net.IPAddress CliCaller = System.Net.IPAddress.Loopback;

    private static object Describe(ManagerAccount a) => new
    {
        login = a.Login?.ToString(),
        state = a.State == AccountState.Active ? "active" : "recovery",
        recoveryUsername = a.RecoveryUsername,
        formerLogin = a.FormerLogin?.ToString(),
        name = a.Name,
        phone = a.Phone,
        secondaryEmail = a.SecondaryEmail,
        twoFactor = a.TwoFactorEnabled,
        unifiedMailbox = a.UnifiedMailbox?.ToString(),
        grants = a.Grants.Select(g => new { mailbox = g.Mailbox.ToString(), canChangePassword = g.CanChangePassword }),
    };
}
