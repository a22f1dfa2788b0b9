using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// RFC 9208 (IMAP QUOTA) as MailAuth has it: one quota root per mailbox, named "", holding every
/// folder, with the one resource STORAGE (in units of 1024 octets, §5.1). A mailbox without a
/// quota still has its root, with no resource limits (an empty list, §5.1's quota_list).
/// </summary>
internal static class QuotaResponses
{
    public const string RootName = "";

    /// <summary>The untagged QUOTA response (§7.1): usage rounded up and the limit down, so a full mailbox shows as full.</summary>
    public static string Quota(QuotaState state) =>
        state.Limit is { } limit
            ? $"* QUOTA {ImapFormat.Quote(RootName)} (STORAGE {ImapFormat.Number((state.Used + 1023) / 1024)} {ImapFormat.Number(limit / 1024)})\r\n"
            : $"* QUOTA {ImapFormat.Quote(RootName)} ()\r\n";

    /// <summary>The response code of a refusal that would take the mailbox over its quota (§4.3).</summary>
    public const string OverQuota = "OVERQUOTA";
}
