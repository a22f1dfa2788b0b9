using MailAuth.Core;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Sasl;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/mailbox/password</c>, issue 16's second flow as a page: the holder proves the current password
/// (<see cref="MailboxHolder"/>, as the JSON API) and sets a new one through Core's
/// <see cref="MailboxAdministration.ChangePasswordAsHolderAsync"/>; the mailbox's sessions end.
/// </summary>
internal sealed class MailboxPasswordPage(PageForms forms, MailboxHolder holder, MailboxAdministration administration)
{
    public const string Path = "/mailbox/password";

    public Task GetAsync(HttpContext context) => Render(context, StatusCodes.Status200OK, new Answers());

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form)
        {
            return;
        }
        var address = PageForms.Field(form, "address");
        var newPassword = PageForms.Field(form, "new-password");
        // Checked before the current password, so that a typing slip costs no throttled attempt.
        if (newPassword != PageForms.Field(form, "confirm-new-password"))
        {
            await Render(context, StatusCodes.Status400BadRequest, new Answers(address) { ConfirmError = "The two new passwords differ: type the same one twice." });
            return;
        }
        var outcome = await holder.VerifyAsync(context, "FORM", address, PageForms.Field(form, "password"));
        if (MailboxRefusal.Of(outcome) is { } refusal)
        {
            await Render(context, refusal.Status, new Answers(address) { Refusal = refusal });
            return;
        }
        var verified = ((SaslLoginOutcome.Succeeded)outcome).Address;
        try
        {
            var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            await administration.ChangePasswordAsHolderAsync(verified, newPassword, client, context.RequestAborted);
        }
        catch (CredentialOperationException e)
        {
            await Render(context, RefusalAnswer.Prepare(context, e, api: false), new Answers(address) { NewPasswordError = "Not accepted: " + e.Message + "." });
            return;
        }
        await new HtmlPage("Mailbox password changed")
            .Heading("Password changed")
            .Success($"The password of {verified} is changed.")
            .Paragraph("Mail clients that were logged in with the old password are disconnected: enter the new password in each of them.")
            .Link(HomePage.Path, "Back to the start page")
            .WriteAsync(context);
    }

    private sealed record Answers(string? Address = null)
    {
        public MailboxRefusal? Refusal { get; init; }

        public string? NewPasswordError { get; init; }

        public string? ConfirmError { get; init; }
    }

    private Task Render(HttpContext context, int status, Answers answers)
    {
        var page = new HtmlPage("Change a mailbox password").Heading("Change a mailbox password");
        var alert = answers.Refusal is null ? null : MailboxRefusal.AlertId;
        if (answers.Refusal is not null)
        {
            page.Alert(MailboxRefusal.AlertId, answers.Refusal.Message);
        }
        return page
            .Form(Path, forms.TokenFor(context), "Change the password",
                new FormField("address", "Email address", FieldKind.Email, "username") { Value = answers.Address, DescribedBy = alert },
                new FormField("password", "Current password", FieldKind.Password, "current-password") { DescribedBy = alert },
                new FormField("new-password", "New password", FieldKind.Password, "new-password")
                {
                    Hint = "Mail clients logged in with the current password will have to log in again.",
                    Error = answers.NewPasswordError,
                },
                new FormField("confirm-new-password", "New password again", FieldKind.Password, "new-password") { Error = answers.ConfirmError })
            .WriteAsync(context, status);
    }
}
