using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using MailAuth.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/forgot-password</c>, issue 16's sixth flow, first half: Core's
/// <see cref="ManagerAccountService.RequestPasswordResetAsync(string, IPAddress, Uri?, CancellationToken)"/>
/// (the CLI's <c>account reset-password</c>) queues a single-use link to <see cref="ResetPasswordPage"/>
/// for the secondary email and phone. The answer is the same page and status whether or not the
/// account exists; only the request limits (per identifier, per network) refuse, alike for both.
/// </summary>
internal sealed class ForgotPasswordPage(PageForms forms, ManagerAccountService accounts, WebOptions web, MailServerSettings server)
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
            await accounts.RequestPasswordResetAsync(identifier, client, ResetPage(), context.RequestAborted);
        }
        catch (CredentialOperationException)
        {
            context.Response.Headers.RetryAfter = "3600";
            await Render(context, StatusCodes.Status429TooManyRequests, identifier,
                "Too many password reset requests for this identifier or from your network. Try again later.");
            return;
        }
        await new HtmlPage("Password reset requested")
            .Heading("Password reset requested")
            .Success("If this account exists, a link was sent to its secondary email and phone.")
            .Paragraph($"The link works once, for {ManagerAccountService.ResetTokenLifetime.TotalMinutes:0} minutes.")
            .Link(LoginPage.Path, "Back to the login page")
            .WriteAsync(context);
    }

    /// <summary>
    /// The reset page's absolute address: <c>MailAuth:Web:PublicUrl</c> when set, else the server's
    /// own name (<c>Smtp:HostName</c>) and web port. Never the request's Host header: a client
    /// chooses that, and a reset asked with a forged one would send the owner a link to another site.
    /// </summary>
    private Uri ResetPage() => web.PublicUrl.Length > 0
        ? new Uri(web.PublicUrl.TrimEnd('/') + ResetPasswordPage.Path)
        : new UriBuilder(Uri.UriSchemeHttps, server.HostName, web.Port == 443 ? -1 : web.Port, ResetPasswordPage.Path).Uri;

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
