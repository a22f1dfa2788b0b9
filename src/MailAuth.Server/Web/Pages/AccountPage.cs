using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/account</c>, after login: the account's mailboxes and what it may do with each, read through
/// Core's <see cref="ManagerAccountService"/> at every view (a grant the admin changed shows at once).
/// </summary>
internal sealed class AccountPage(PageForms forms, ManagerAccountService accounts, ManagerSessions sessions)
{
    public const string Path = "/account";

    public async Task GetAsync(HttpContext context)
    {
        if (await LoggedInAccountAsync(context, accounts, sessions) is not { } account)
        {
            return;
        }
        var page = new HtmlPage("Your account")
            .Heading("Your manager account")
            .Paragraph($"Logged in as {account.Identifier} ({account.Name}). 2FA is {(account.TwoFactorEnabled ? "on" : "off")}.");
        if (account.Grants.Count == 0)
        {
            page.Paragraph("This account has access to no mailbox yet.");
        }
        else
        {
            page.Table("Mailboxes this account manages", ["Mailbox", "What this account may do"],
                account.Grants.Select(grant => (IReadOnlyList<string>)[grant.Mailbox.ToString(), Permissions(account, grant)]));
            var changeable = account.Grants.Where(grant => grant.CanChangePassword).ToArray();
            if (changeable.Length > 0)
            {
                page.Subheading("Change a mailbox password")
                    .Choices([.. changeable.Select(grant => (ManagedMailboxPasswordPage.For(grant.Mailbox.ToString()), grant.Mailbox.ToString(),
                        grant.Mailbox == account.UnifiedMailbox ? "Unified with your account: both change." : "Only the mailbox's password changes, unless you unify."))]);
            }
        }
        page.Subheading("Your account password")
            .Choices((AccountPasswordPage.Path, "Change your account password",
                account.UnifiedMailbox is { } unified ? $"Unified with {unified}: its password follows." : "Your mailboxes' passwords stay as they are."));
        page.Subheading("Two-factor authentication")
            .Choices((AccountTwoFactorPage.Path, account.TwoFactorEnabled ? "Turn 2FA off" : "Turn 2FA on",
                account.TwoFactorEnabled ? "Needs a current code from your authenticator app." : "Scan a QR code with an authenticator app and confirm with its first code."));
        await page
            .Form(LoginPage.LogoutPath, forms.TokenFor(context), "Log out")
            .WriteAsync(context);
    }

    private static string Permissions(ManagerAccount account, AccountGrant grant) =>
        grant.Mailbox == account.UnifiedMailbox
            ? "See it; change its password. Unified: this account and the mailbox share one password."
            : grant.CanChangePassword ? "See it; change its password." : "See it (changing its password is not allowed).";

    /// <summary>
    /// The account of this request's session, or null once the browser has been sent to the login
    /// page: no session, an expired one, an account that no longer has that identifier, or one whose
    /// credentials changed since the session's login.
    /// </summary>
    public static async Task<ManagerAccount?> LoggedInAccountAsync(HttpContext context, ManagerAccountService accounts, ManagerSessions sessions)
    {
        if (sessions.Current(context) is { } session)
        {
            if (await sessions.AccountAsync(session, accounts, context.RequestAborted) is { } account)
            {
                return account;
            }
            sessions.End(context);
        }
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = LoginPage.Path;
        return null;
    }
}
