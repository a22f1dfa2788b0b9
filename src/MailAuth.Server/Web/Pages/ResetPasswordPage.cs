using MailAuth.Core;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/reset?token=…</c>, issue 16's sixth flow, second half: the link from <see cref="ForgotPasswordPage"/>.
/// The new password is set by Core's <see cref="ManagerAccountService.CompletePasswordResetAsync"/>
/// (the CLI's <c>account complete-reset</c>), with the 2FA code when 2FA is on; the token is used
/// once. Afterwards every session of the account ends. The token travels in the URL only to the
/// form, which posts it back in a hidden field; pages are sent with <c>Referrer-Policy: no-referrer</c>
/// (<see cref="WebService"/>), so it does not leak to a link's target.
/// </summary>
internal sealed class ResetPasswordPage(PageForms forms, ManagerAccountService accounts, ManagerSessions sessions)
{
    public const string Path = "/reset";

    public async Task GetAsync(HttpContext context)
    {
        var token = context.Request.Query["token"].Count == 1 ? context.Request.Query["token"][0] ?? "" : "";
        if (token.Length == 0 || await accounts.ResetNeedsSecondFactorAsync(token, context.RequestAborted) is not { } secondFactor)
        {
            await RefuseAsync(context);
            return;
        }
        await Render(context, StatusCodes.Status200OK, token, secondFactor, new Answers());
    }

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form)
        {
            return;
        }
        var token = PageForms.Field(form, "token");
        if (token.Length == 0 || await accounts.ResetNeedsSecondFactorAsync(token, context.RequestAborted) is not { } secondFactor)
        {
            await RefuseAsync(context);
            return;
        }
        var newPassword = PageForms.Field(form, "new-password");
        if (newPassword != PageForms.Field(form, "confirm-new-password"))
        {
            await Render(context, StatusCodes.Status400BadRequest, token, secondFactor, new Answers { ConfirmError = "The two new passwords differ: type the same one twice." });
            return;
        }
        var code = PageForms.Field(form, "totp").Trim();
        string identifier;
        EmailAddress? unified;
        try
        {
            (identifier, unified) = await accounts.CompletePasswordResetAsync(token, newPassword, code.Length == 0 ? null : code, context.RequestAborted,
                context.Connection.RemoteIpAddress);
        }
        catch (CredentialOperationException e)
        {
            await Render(context, RefusalAnswer.Prepare(context, e, api: false), token, secondFactor, new Answers { Refusal = "Not accepted: " + e.Message + "." });
            return;
        }
        // Sessions also end by the credential version at their next page; ending them now frees them.
        sessions.EndAll(identifier);
        sessions.End(context);
        var page = new HtmlPage("Password reset")
            .Heading("Your password is reset")
            .Success(unified is null
                ? "Your manager account's password is changed."
                : $"Your manager account's password is changed, and so is the password of {unified}: they are unified.");
        await page.Paragraph("Every session of your account has ended. Log in with the new password.")
            .Link(LoginPage.Path, "Log in")
            .WriteAsync(context);
    }

    private static Task RefuseAsync(HttpContext context) =>
        new HtmlPage("Reset link not valid")
            .Heading("This reset link is not valid")
            .Alert(MailboxRefusal.AlertId, "This link is unknown, already used or expired (links work once, for 30 minutes). Ask for a new one.")
            .Link(ForgotPasswordPage.Path, "Ask for a new link")
            .WriteAsync(context, StatusCodes.Status400BadRequest);

    private sealed record Answers
    {
        public string? Refusal { get; init; }

        public string? ConfirmError { get; init; }
    }

    private Task Render(HttpContext context, int status, string token, bool secondFactor, Answers answers)
    {
        var page = new HtmlPage("Choose a new password").Heading("Choose a new account password");
        var alert = answers.Refusal is null ? null : MailboxRefusal.AlertId;
        if (answers.Refusal is not null)
        {
            page.Alert(MailboxRefusal.AlertId, answers.Refusal);
        }
        FormField[] fields =
        [
            new FormField("token", "Reset token", FieldKind.Hidden) { Value = token },
            new FormField("new-password", "New password", FieldKind.Password, "new-password") { DescribedBy = alert },
            new FormField("confirm-new-password", "New password again", FieldKind.Password, "new-password") { Error = answers.ConfirmError },
            .. secondFactor
                ? [new FormField("totp", "2FA code", FieldKind.OneTimeCode, "one-time-code")
                {
                    Hint = "Your account has 2FA on: the 6 digits of your authenticator app now.",
                    DescribedBy = alert,
                }]
                : Array.Empty<FormField>(),
        ];
        return page.Form(Path, forms.TokenFor(context), "Set the new password", fields).WriteAsync(context, status);
    }
}
