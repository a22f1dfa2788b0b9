using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/forgot-login</c>, issue 16's seventh flow: a phone number, and Core's
/// <see cref="ManagerAccountService.SendLoginIdentifierAsync"/> (the CLI's <c>account find-login</c>)
/// sends the login identifier (or, in recovery, the recovery username) of every account with that
/// number to the phone and the secondary email on file. The identifier is never shown here, and the
/// page and status are the same whether or not an account matched, so the page cannot tell a
/// stranger which numbers have an account.
/// </summary>
internal sealed class ForgotLoginPage(PageForms forms, ManagerAccountService accounts)
{
    public const string Path = "/forgot-login";

    public Task GetAsync(HttpContext context) => Render(context, StatusCodes.Status200OK, phone: null, error: null);

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form)
        {
            return;
        }
        var phone = PageForms.Field(form, "phone");
        try
        {
            await accounts.SendLoginIdentifierAsync(phone, context.Connection.RemoteIpAddress ?? IPAddress.IPv6None, context.RequestAborted);
        }
        catch (CredentialOperationException e)
        {
            // Only the number's form and the request limits are refused here (before any lookup, the
            // same for a number on file or not): it says nothing about accounts.
            await Render(context, RefusalAnswer.Prepare(context, e, api: false), phone, "Not accepted: " + e.Message + ".");
            return;
        }
        await new HtmlPage("Login identifier sent")
            .Heading("Check your phone and your email")
            .Success("If an account has this phone number, its login identifier was sent to that phone and to the account's secondary email address.")
            .Paragraph("For an account in recovery, the message holds the recovery username to log in with.")
            .Link(LoginPage.Path, "Log in")
            .Link(RecoveryPage.Path, "Log in with a recovery username")
            .WriteAsync(context);
    }

    private Task Render(HttpContext context, int status, string? phone, string? error) =>
        new HtmlPage("Forgot your login identifier").Heading("Forgot your login identifier?")
            .Paragraph("Give the mobile phone number on file: the login identifier is sent to it and to the account's secondary email address, never shown here.")
            .Form(Path, forms.TokenFor(context), "Send my login identifier",
                new FormField("phone", "Mobile phone number", FieldKind.Text, "tel")
                {
                    Value = phone,
                    Hint = "In international form, e.g. +41 79 123 45 67.",
                    Error = error,
                })
            .Link(HomePage.Path, "Back to the start page")
            .WriteAsync(context, status);
}
