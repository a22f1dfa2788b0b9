using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/forgot-password</c>, issue 16's sixth flow, first half: Core's
/// <see cref="ManagerAccountService.RequestPasswordResetAsync(string, IPAddress, Uri?, CancellationToken)"/>
/// (the CLI's <c>account reset-password</c>) queues a single-use link to <see cref="ResetPasswordPage"/>
/// for the secondary email and phone. The answer is the same page and status whether or not the
/// account exists; only the request limits (per identifier, per network) refuse, alike for both.
/// </summary>
internal sealed class ForgotPasswordPage(PageForms forms, ManagerAccountService accounts, ResetLink link)
{
    public const string Path = "/forgot-password";

    public Task GetAsync(HttpContext context) => Render(context, StatusCodes.Status200OK, identifier: null, refusal: null);

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form)
        {
            return;
        }
        var identifier = PageForms.Field(form, "identifier").Trim();
        if (identifier.Length == 0)
        {
            await Render(context, StatusCodes.Status400BadRequest, identifier, "Type your login identifier.");
            return;
        }
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        try
        {
            await accounts.RequestPasswordResetAsync(identifier, client, link.Page(), context.RequestAborted);
        }
        catch (CredentialOperationException e)
        {
            await Render(context, RefusalAnswer.Prepare(context, e, api: false), identifier, e.Refusal == CredentialRefusal.Throttled
                ? "Too many password reset requests for this identifier or from your network. Try again later."
                : "Not accepted: " + e.Message + ".");
            return;
        }
        await new HtmlPage("Password reset requested")
            .Heading("Password reset requested")
            .Success("If this account exists, a link was sent to its secondary email and phone.")
            .Paragraph($"The link works once, for {ManagerAccountService.ResetTokenLifetime.TotalMinutes:0} minutes.")
            .Link(LoginPage.Path, "Back to the login page")
            .WriteAsync(context);
    }

    private Task Render(HttpContext context, int status, string? identifier, string? refusal)
    {
        var page = new HtmlPage("Forgot password").Heading("Forgot your account password?");
        var alert = refusal is null ? null : MailboxRefusal.AlertId;
        if (refusal is not null)
        {
            page.Alert(MailboxRefusal.AlertId, refusal);
        }
        page.Paragraph("A single-use link to choose a new password is sent to the secondary email and phone on file.");
        return page
            .Form(Path, forms.TokenFor(context), "Send the link",
                new FormField("identifier", "Login identifier", FieldKind.Text, "username") { Value = identifier, DescribedBy = alert })
            .Link(LoginPage.Path, "Back to the login page")
            .WriteAsync(context, status);
    }
}
