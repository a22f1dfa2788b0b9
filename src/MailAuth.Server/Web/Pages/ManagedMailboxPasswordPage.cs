using MailAuth.Core;
using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/account/mailbox-password?mailbox=…</c>, issue 16's fourth flow: a logged-in account changes a
/// mailbox password through Core's <see cref="ManagerAccountService.SetMailboxPasswordAsync"/> (the
/// CLI's <c>account set-mailbox-password</c>). Unification is offered exactly when Core's three
/// conditions hold; otherwise the page says which fail. A change that sets the account password
/// too (unifying, or while unified) ends every session of the account.
/// </summary>
internal sealed class ManagedMailboxPasswordPage(PageForms forms, ManagerAccountService accounts, ManagerSessions sessions)
{
    public const string Path = "/account/mailbox-password";

    public static string For(string mailbox) => Path + "?mailbox=" + Uri.EscapeDataString(mailbox);

    public async Task GetAsync(HttpContext context)
    {
        if (await AccountPage.LoggedInAccountAsync(context, accounts, sessions) is not { } account)
        {
            return;
        }
        await Render(context, StatusCodes.Status200OK, account, context.Request.Query["mailbox"].ToString(), new Answers());
    }

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form
            || await AccountPage.LoggedInAccountAsync(context, accounts, sessions) is not { } account)
        {
            return;
        }
        var mailbox = PageForms.Field(form, "mailbox");
        var password = PageForms.Field(form, "new-password");
        var unify = PageForms.Field(form, "unify") == "true";
        if (password != PageForms.Field(form, "confirm-new-password"))
        {
            await Render(context, StatusCodes.Status400BadRequest, account, mailbox,
                new Answers { Unify = unify, ConfirmError = "The two new passwords differ: type the same one twice." });
            return;
        }
        MailboxPasswordOutcome outcome;
        try
        {
            outcome = await accounts.SetMailboxPasswordAsync(account.Identifier, mailbox, password, unify, context.RequestAborted,
                context.Connection.RemoteIpAddress);
        }
        catch (CredentialOperationException e)
        {
            await Render(context, RefusalAnswer.Prepare(context, e, api: false), account, mailbox, new Answers { Unify = unify, NewPasswordError = "Not accepted: " + e.Message + "." });
            return;
        }
        var page = new HtmlPage("Mailbox password changed");
        switch (outcome.Result)
        {
            case MailboxPasswordResult.UnificationRefused:
                await Render(context, StatusCodes.Status409Conflict, account, mailbox, new Answers { Refused = outcome.Conditions });
                return;
            case MailboxPasswordResult.Unified or MailboxPasswordResult.BothChangedWhileUnified:
                // The account password changed too: every session of the account ends, this one included.
                sessions.EndAll(account.Identifier);
                sessions.End(context);
                page.Heading("Passwords changed")
                    .Success(outcome.Result == MailboxPasswordResult.Unified
                        ? $"{mailbox} and your manager account are now unified: both have the new password."
                        : $"The password of {mailbox} is changed, and so is your manager account's: they are unified.")
                    .Paragraph(UnificationText.Explanation)
                    .Paragraph("Your account password changed, so you are logged out everywhere. Log in again with the new password.")
                    .Link(LoginPage.Path, "Log in");
                break;
            default:
                page.Heading("Mailbox password changed")
                    .Success($"The password of {mailbox} is changed. Your manager account's password is unchanged.")
                    .Paragraph("Mail clients that were logged in with the old password are disconnected: enter the new password in each of them.")
                    .Link(AccountPage.Path, "Back to your account");
                break;
        }
        await page.WriteAsync(context);
    }

    private sealed record Answers
    {
        public bool Unify { get; init; }

        public string? NewPasswordError { get; init; }

        public string? ConfirmError { get; init; }

        public UnificationConditions? Refused { get; init; }
    }

    private async Task Render(HttpContext context, int status, ManagerAccount account, string mailbox, Answers answers)
    {
        var grant = account.Grants.FirstOrDefault(grant => string.Equals(grant.Mailbox.ToString(), mailbox, StringComparison.OrdinalIgnoreCase));
        var page = new HtmlPage("Change a mailbox password");
        if (grant is null)
        {
            await page.Heading("Not one of your mailboxes")
                .Alert(MailboxRefusal.AlertId, "Your account has no access to this mailbox.")
                .Link(AccountPage.Path, "Back to your account")
                .WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }
        var address = grant.Mailbox.ToString();
        page.Heading($"Change the password of {address}");
        if (answers.Refused is { } refused)
        {
            page.Alert(MailboxRefusal.AlertId, "Nothing was changed: unification is not possible because " + string.Join("; ", refused.Failed) + ".");
        }
        if (account.UnifiedMailbox == grant.Mailbox)
        {
            page.Paragraph("This mailbox and your manager account are unified: the new password will be your account password too.")
                .Paragraph(UnificationText.Explanation);
            await WriteFormAsync(unifyOffer: null);
            return;
        }
        var conditions = await accounts.EvaluateUnificationAsync(account.Identifier, address, context.RequestAborted);
        if (!conditions.MayChangePassword)
        {
            await page.Alert(MailboxRefusal.AlertId, "Your account may not change the password of this mailbox.")
                .Link(AccountPage.Path, "Back to your account")
                .WriteAsync(context, StatusCodes.Status403Forbidden);
            return;
        }
        if (conditions.AllHold)
        {
            page.Subheading("Unification offered")
                .Paragraph("Your login identifier is this address, your account is the only one with access to it, and it may change its password: you can use the new password for your manager account too.")
                .Paragraph(UnificationText.Explanation);
            await WriteFormAsync(new FormField("unify", "Also use this password for my manager account (unify)", FieldKind.Checkbox)
            {
                Value = answers.Unify ? "true" : null,
                Required = false,
            });
            return;
        }
        page.Paragraph("Only the mailbox password changes. Unification (one password for this mailbox and your account) is not offered because "
            + string.Join("; ", conditions.Failed) + ".");
        await WriteFormAsync(unifyOffer: null);

        Task WriteFormAsync(FormField? unifyOffer)
        {
            FormField[] fields =
            [
                new FormField("mailbox", "Mailbox", FieldKind.Hidden) { Value = address },
                new FormField("new-password", "New password", FieldKind.Password, "new-password") { Error = answers.NewPasswordError },
                new FormField("confirm-new-password", "New password again", FieldKind.Password, "new-password") { Error = answers.ConfirmError },
                .. unifyOffer is null ? Array.Empty<FormField>() : [unifyOffer],
            ];
            return page.Form(Path, forms.TokenFor(context), "Change the password", fields)
                .Link(AccountPage.Path, "Back to your account")
                .WriteAsync(context, status);
        }
    }
}
