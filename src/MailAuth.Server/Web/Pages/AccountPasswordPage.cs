using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/account/password</c>, issue 16's fifth flow: a logged-in account changes its own password
/// through Core's <see cref="ManagerAccountService.SetPasswordAsync"/> (the CLI's <c>account passwd</c>);
/// a unified mailbox follows, and the page says so before and after. The current password (and the
/// 2FA code when 2FA is on) is checked by <see cref="ManagerAccountService.LoginAsync"/>, the login's
/// throttled path, so an open session cannot be used to guess it. Afterwards every session of the
/// account ends.
/// </summary>
internal sealed class AccountPasswordPage(PageForms forms, ManagerAccountService accounts, ManagerSessions sessions)
{
    public const string Path = "/account/password";

    public async Task GetAsync(HttpContext context)
    {
        if (await AccountPage.LoggedInAccountAsync(context, accounts, sessions) is not { } account)
        {
            return;
        }
        await Render(context, StatusCodes.Status200OK, account, new Answers());
    }

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form
            || await AccountPage.LoggedInAccountAsync(context, accounts, sessions) is not { } account)
        {
            return;
        }
        var newPassword = PageForms.Field(form, "new-password");
        // Checked before the current password, so that a typing slip costs no throttled attempt.
        if (newPassword != PageForms.Field(form, "confirm-new-password"))
        {
            await Render(context, StatusCodes.Status400BadRequest, account, new Answers { ConfirmError = "The two new passwords differ: type the same one twice." });
            return;
        }
        var code = PageForms.Field(form, "totp").Trim();
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        var check = await accounts.LoginAsync(account.Identifier, PageForms.Field(form, "password"), code.Length == 0 ? null : code, client, context.RequestAborted);
        switch (check.Status)
        {
            case AccountLoginStatus.Succeeded:
                break;
            case AccountLoginStatus.TemporarilyUnavailable:
                await Render(context, RefusalAnswer.Prepare(context, CredentialRefusal.Busy, api: false), account,
                    new Answers { Refusal = "The server is too busy to check your password now. Try again in a moment." });
                return;
            case AccountLoginStatus.Throttled:
                await Render(context, RefusalAnswer.Prepare(context, CredentialRefusal.Throttled, api: false), account,
                    new Answers { Refusal = "Too many failed attempts for this account or from your network. Wait a few minutes and try again." });
                return;
            default:
                await Render(context, StatusCodes.Status403Forbidden, account, new Answers
                {
                    Refusal = account.TwoFactorEnabled ? "The current password or the 2FA code is wrong." : "The current password is wrong.",
                });
                return;
        }
        EmailAddress? unified;
        try
        {
            unified = await accounts.SetPasswordAsync(account.Identifier, newPassword, context.RequestAborted, client);
        }
        catch (CredentialOperationException e)
        {
            await Render(context, RefusalAnswer.Prepare(context, e, api: false), account, new Answers { NewPasswordError = "Not accepted: " + e.Message + "." });
            return;
        }
        // The account password changed: every session of the account ends, this one included.
        sessions.EndAll(account.Identifier);
        sessions.End(context);
        var page = new HtmlPage("Account password changed")
            .Heading("Account password changed")
            .Success(unified is null
                ? "Your manager account's password is changed."
                : $"Your manager account's password is changed, and so is the password of {unified}: they are unified.");
        if (unified is not null)
        {
            page.Paragraph("Mail clients of that mailbox that were logged in with the old password are disconnected: enter the new password in each of them.");
        }
        await page.Paragraph("You are logged out everywhere. Log in again with the new password.")
            .Link(LoginPage.Path, "Log in")
            .WriteAsync(context);
    }

    private sealed record Answers
    {
        public string? Refusal { get; init; }

        public string? NewPasswordError { get; init; }

        public string? ConfirmError { get; init; }
    }

    private Task Render(HttpContext context, int status, ManagerAccount account, Answers answers)
    {
        var page = new HtmlPage("Change your account password").Heading("Change your account password");
        var alert = answers.Refusal is null ? null : MailboxRefusal.AlertId;
        if (answers.Refusal is not null)
        {
            page.Alert(MailboxRefusal.AlertId, answers.Refusal);
        }
        page.Paragraph(account.UnifiedMailbox is { } unified
            ? $"Your account is unified with the mailbox {unified}: its password will change too, and its mail clients will have to log in again."
            : "Only your manager account's password changes; the passwords of the mailboxes you manage stay as they are.");
        page.Paragraph("Every session of your account ends after the change: you log in again with the new password.");
        FormField[] fields =
        [
            new FormField("password", "Current password", FieldKind.Password, "current-password") { DescribedBy = alert },
            .. account.TwoFactorEnabled
                ? [new FormField("totp", "2FA code", FieldKind.OneTimeCode, "one-time-code")
                {
                    Hint = "The 6 digits of your authenticator app now (not the one you logged in with).",
                    DescribedBy = alert,
                }]
                : Array.Empty<FormField>(),
            new FormField("new-password", "New password", FieldKind.Password, "new-password") { Error = answers.NewPasswordError },
            new FormField("confirm-new-password", "New password again", FieldKind.Password, "new-password") { Error = answers.ConfirmError },
        ];
        return page.Form(Path, forms.TokenFor(context), "Change the password", fields)
            .Link(AccountPage.Path, "Back to your account")
            .WriteAsync(context, status);
    }
}
