namespace MailAuth.Server.Web.Pages;

/// <summary>The seeds' explanation of unification, said the same on the page and in the API's offer.</summary>
internal static class UnificationText
{
    public const string Explanation =
        "Unified, your manager account and this mailbox share one password: one password for the manager and for mail. " +
        "While unified, a change you make to either changes both. It comes apart by itself when another account gets access " +
        "to the mailbox, your permission to change its password is withdrawn, someone else (an administrator or another account) " +
        "changes the mailbox password, your login identifier changes, or the mailbox is removed; the two passwords then stay as they are, separately.";
}
