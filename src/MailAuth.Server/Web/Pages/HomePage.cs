using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary><c>/</c>: the choice of flows (issue 16).</summary>
internal static class HomePage
{
    public const string Path = "/";

    public static Task GetAsync(HttpContext context) =>
        new HtmlPage("Mail and account")
            .Heading("What would you like to do?")
            .Choices(
                (MailboxTestPage.Path, "Test an email address and password", "Check that a mail client can log in, and see the settings it needs."),
                (MailboxPasswordPage.Path, "Change a mailbox password", "You know the current password of the mailbox."),
                (LoginPage.Path, "Log in to your manager account", "See the mailboxes your account manages and what it may do."))
            .WriteAsync(context);
}
