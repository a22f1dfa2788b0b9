using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/recovery</c>, issue 16's eighth flow: the recovery username (sent by SMS and email when the
/// former login identifier went away), the usual password, the 2FA code when 2FA is on, and the new
/// login identifier, all on one form. Core's <see cref="ManagerAccountService.CompleteRecoveryAsync"/>
/// (the CLI's <c>account complete-recovery</c>) checks them on the login's throttled path and sets the
/// new identifier; then a session starts as after <c>/login</c>.
/// </summary>
internal sealed class RecoveryPage(PageForms forms, ManagerAccountService accounts, ManagerSessions sessions)
{
    public const string Path = "/recovery";

    public Task GetAsync(HttpContext context) => Render(context, StatusCodes.Status200OK, new Answers());

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form)
        {
            return;
        }
        var answers = new Answers
        {
            RecoveryUsername = PageForms.Field(form, "recovery-username"),
            NewIdentifier = PageForms.Field(form, "new-identifier"),
        };
        var code = PageForms.Field(form, "totp").Trim();
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        string chosen;
        ManagerAccount account;
        try
        {
            chosen = (await accounts.CompleteRecoveryAsync(answers.RecoveryUsername, PageForms.Field(form, "password"),
                code.Length == 0 ? null : code, answers.NewIdentifier, client, context.RequestAborted)).ToString();
            account = await accounts.ShowAsync(chosen, context.RequestAborted);
        }
        catch (CredentialOperationException e)
        {
            await Render(context, RefusalAnswer.Prepare(context, e, api: false), answers with { Refusal = "Not accepted: " + e.Message + "." });
            return;
        }
        if (!sessions.Start(context, account.Identifier, account.CredentialVersion))
        {
            var busy = RefusalAnswer.Prepare(context, CredentialRefusal.Busy, api: false);
            await new HtmlPage("Recovery complete")
                .Heading("Recovery complete")
                .Success($"Your new login identifier is {chosen}.")
                .Alert(MailboxRefusal.AlertId, "The server is too busy to log you in now: log in with the new identifier in a moment.")
                .Link(LoginPage.Path, "Log in")
                .WriteAsync(context, busy);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = AccountPage.Path;
    }

    private sealed record Answers
    {
        public string RecoveryUsername { get; init; } = "";

        public string NewIdentifier { get; init; } = "";

        public string? Refusal { get; init; }
    }

    private Task Render(HttpContext context, int status, Answers answers)
    {
        var page = new HtmlPage("Log in with a recovery username").Heading("Log in with a recovery username");
        var alert = answers.Refusal is null ? null : MailboxRefusal.AlertId;
        if (answers.Refusal is not null)
        {
            page.Alert(MailboxRefusal.AlertId, answers.Refusal);
        }
        return page
            .Paragraph("Your former login identifier no longer works: log in with the recovery username you received by SMS and email, " +
                "your usual password, and choose the email address you will log in with from now on.")
            .Form(Path, forms.TokenFor(context), "Log in and use the new identifier",
                new FormField("recovery-username", "Recovery username", FieldKind.Text, "username")
                {
                    Value = answers.RecoveryUsername.Length == 0 ? null : answers.RecoveryUsername,
                    DescribedBy = alert,
                },
                new FormField("password", "Password", FieldKind.Password, "current-password") { DescribedBy = alert },
                new FormField("totp", "2FA code", FieldKind.OneTimeCode, "one-time-code")
                {
                    Hint = "The 6 digits of your authenticator app, if 2FA is on; otherwise leave it empty.",
                    Required = false,
                    DescribedBy = alert,
                },
                new FormField("new-identifier", "New login identifier", FieldKind.Email, "email")
                {
                    Value = answers.NewIdentifier.Length == 0 ? null : answers.NewIdentifier,
                    Hint = "An email address of yours; it becomes your login identifier.",
                    DescribedBy = alert,
                })
            .Link(ForgotLoginPage.Path, "Forgot your login identifier or recovery username?")
            .WriteAsync(context, status);
    }
}
