using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/login</c>, issue 16's third flow: login identifier, password and, when 2FA is on, the code,
/// all on one form so that nothing says whether the password was right before the code is asked.
/// Core's <see cref="ManagerAccountService.LoginAsync"/> throttles it like a mail login and gives one
/// answer for every refusal; a success starts a new session (<see cref="ManagerSessions"/>).
/// </summary>
internal sealed class LoginPage(PageForms forms, ManagerAccountService accounts, ManagerSessions sessions)
{
    public const string Path = "/login";
    public const string LogoutPath = "/logout";

    public Task GetAsync(HttpContext context) => Render(context, StatusCodes.Status200OK, identifier: null, refusal: null);

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form)
        {
            return;
        }
        var identifier = PageForms.Field(form, "identifier");
        var code = PageForms.Field(form, "totp").Trim();
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        var login = await accounts.LoginAsync(identifier, PageForms.Field(form, "password"), code.Length == 0 ? null : code, client, context.RequestAborted);
        switch (login.Status)
        {
            case AccountLoginStatus.Succeeded when sessions.Start(context, login.Identifier!, login.CredentialVersion):
                context.Response.StatusCode = StatusCodes.Status303SeeOther;
                context.Response.Headers.Location = AccountPage.Path;
                return;
            case AccountLoginStatus.Succeeded or AccountLoginStatus.TemporarilyUnavailable:
                await Render(context, RefusalAnswer.Prepare(context, CredentialRefusal.Busy, api: false), identifier,
                    "The server is too busy to log you in now. Try again in a moment.");
                return;
            case AccountLoginStatus.Throttled:
                await Render(context, RefusalAnswer.Prepare(context, CredentialRefusal.Throttled, api: false), identifier,
                    "Too many failed attempts for this identifier or from your network. Wait a few minutes and try again.");
                return;
            case AccountLoginStatus.MustCompleteRecovery:
                await new HtmlPage("Choose a new login identifier")
                    .Heading("Choose a new login identifier")
                    .Alert(MailboxRefusal.AlertId, "You used a recovery username: your former login identifier no longer works here. A new login identifier must be chosen before you can log in.")
                    .Link(RecoveryPage.Path, "Choose a new login identifier")
                    .Link(HomePage.Path, "Back to the start page")
                    .WriteAsync(context, StatusCodes.Status403Forbidden);
                return;
            default:
                await Render(context, StatusCodes.Status403Forbidden, identifier, "The login identifier, the password or the 2FA code is wrong.");
                return;
        }
    }

    public async Task LogoutAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is null)
        {
            return;
        }
        sessions.End(context);
        await new HtmlPage("Logged out")
            .Heading("You are logged out")
            .Link(Path, "Log in again")
            .WriteAsync(context);
    }

    private Task Render(HttpContext context, int status, string? identifier, string? refusal)
    {
        var page = new HtmlPage("Log in").Heading("Log in to your manager account");
        var alert = refusal is null ? null : MailboxRefusal.AlertId;
        if (refusal is not null)
        {
            page.Alert(MailboxRefusal.AlertId, refusal);
        }
        return page
            .Form(Path, forms.TokenFor(context), "Log in",
                new FormField("identifier", "Login identifier", FieldKind.Text, "username")
                {
                    Value = identifier,
                    Hint = "An email address, or the recovery username you received by SMS.",
                    DescribedBy = alert,
                },
                new FormField("password", "Password", FieldKind.Password, "current-password") { DescribedBy = alert },
                new FormField("totp", "2FA code", FieldKind.OneTimeCode, "one-time-code")
                {
                    Hint = "The 6 digits of your authenticator app, if 2FA is on; otherwise leave it empty.",
                    Required = false,
                    DescribedBy = alert,
                })
            .Link(ForgotPasswordPage.Path, "Forgot your password?")
            .Link(ForgotLoginPage.Path, "Forgot your login identifier?")
            .Link(RecoveryPage.Path, "Log in with a recovery username")
            .WriteAsync(context, status);
    }
}
