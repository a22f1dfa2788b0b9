using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/account/2fa</c>, issue 16's ninth flow: a logged-in account turns 2FA on (a QR code of the
/// otpauth:// URI and the base32 secret, then a first code to confirm) or off (a current code),
/// through Core's <see cref="ManagerAccountService"/>, on the login's throttle. Afterwards every
/// session of the account ends (the credential version changed).
/// </summary>
/// <remarks>The pending secret lives in a hidden field sealed by <see cref="TwoFactorEnrolmentSeal"/>.</remarks>
internal sealed class AccountTwoFactorPage(PageForms forms, ManagerAccountService accounts, ManagerSessions sessions, TwoFactorEnrolmentSeal seal)
{
    public const string Path = "/account/2fa";

    public async Task GetAsync(HttpContext context)
    {
        if (await AccountPage.LoggedInAccountAsync(context, accounts, sessions) is not { } account)
        {
            return;
        }
        if (account.TwoFactorEnabled)
        {
            await RenderDisable(context, StatusCodes.Status200OK, null);
            return;
        }
        await RenderEnrol(context, StatusCodes.Status200OK, account, await accounts.NewTwoFactorEnrolmentAsync(account.Identifier, context.RequestAborted), null);
    }

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form
            || await AccountPage.LoggedInAccountAsync(context, accounts, sessions) is not { } account)
        {
            return;
        }
        var code = PageForms.Field(form, "totp").Trim();
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        if (account.TwoFactorEnabled)
        {
            var disabled = await accounts.DisableTwoFactorWithCodeAsync(account.Identifier, code, client, context.RequestAborted);
            if (disabled is TwoFactorChangeStatus.Changed or TwoFactorChangeStatus.AlreadyInThatState)
            {
                await Done(context, account, "2FA is off", "Two-factor authentication is off: your account password alone now logs in.");
                return;
            }
            await RenderDisable(context, Status(context, disabled), Refusal(disabled));
            return;
        }
        if (seal.Unseal(PageForms.Field(form, "enrolment"), account.Identifier) is not { } enrolment)
        {
            await RenderEnrol(context, StatusCodes.Status400BadRequest, account, await accounts.NewTwoFactorEnrolmentAsync(account.Identifier, context.RequestAborted),
                "This enrolment expired or was not this page's: scan this new code (remove the old entry from your app) and type its code.");
            return;
        }
        var enabled = await accounts.ConfirmTwoFactorAsync(account.Identifier, enrolment.Secret, code, client, context.RequestAborted);
        if (enabled is TwoFactorChangeStatus.Changed or TwoFactorChangeStatus.AlreadyInThatState)
        {
            await Done(context, account, "2FA is on", "Two-factor authentication is on: every login now asks for a code from your authenticator app.");
            return;
        }
        await RenderEnrol(context, Status(context, enabled), account, enrolment, Refusal(enabled));
    }

    private static int Status(HttpContext context, TwoFactorChangeStatus status) =>
        RefusalAnswer.Prepare(context, status == TwoFactorChangeStatus.Throttled ? CredentialRefusal.Throttled : CredentialRefusal.FailedCredentials, api: false);

    private static string Refusal(TwoFactorChangeStatus status) =>
        status == TwoFactorChangeStatus.Throttled
            ? "Too many attempts for this account: wait a few minutes and try again."
            : "The code is wrong or already used (or 2FA is locked after wrong codes): type the app's current code.";

    private async Task Done(HttpContext context, ManagerAccount account, string title, string message)
    {
        // The credential version changed: every session of the account ends, this one included.
        sessions.EndAll(account.Identifier);
        sessions.End(context);
        await new HtmlPage(title)
            .Heading(title)
            .Success(message)
            .Paragraph("You are logged out everywhere. Log in again.")
            .Link(LoginPage.Path, "Log in")
            .WriteAsync(context);
    }

    private Task RenderEnrol(HttpContext context, int status, ManagerAccount account, TwoFactorEnrolment enrolment, string? error)
    {
        var page = new HtmlPage("Turn 2FA on").Heading("Turn two-factor authentication on");
        page.Paragraph("Scan this QR code with an authenticator app (or type the secret below into it), then type the 6-digit code it shows.")
            .QrCode(enrolment.ProvisioningUri, "QR code of your 2FA secret for an authenticator app")
            .Paragraph($"Secret: {enrolment.Base32Secret}")
            .Paragraph("2FA turns on only once the code is right. Every session of your account ends then: you log in again, with a code.");
        return page.Form(Path, forms.TokenFor(context), "Turn 2FA on",
                new FormField("enrolment", "", FieldKind.Hidden) { Value = seal.Seal(enrolment, account.Identifier) },
                new FormField("totp", "Code from your app", FieldKind.OneTimeCode, "one-time-code") { Error = error })
            .Link(AccountPage.Path, "Back to your account")
            .WriteAsync(context, status);
    }

    private Task RenderDisable(HttpContext context, int status, string? error) =>
        new HtmlPage("Turn 2FA off")
            .Heading("Turn two-factor authentication off")
            .Paragraph("Type the current code of your authenticator app. Every session of your account ends then: you log in again, without a code.")
            .Form(Path, forms.TokenFor(context), "Turn 2FA off",
                new FormField("totp", "Code from your app", FieldKind.OneTimeCode, "one-time-code") { Error = error })
            .Link(AccountPage.Path, "Back to your account")
            .WriteAsync(context, status);
}
