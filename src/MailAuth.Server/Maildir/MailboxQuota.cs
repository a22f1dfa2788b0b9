using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Server.Maildir;

/// <summary>A mailbox's quota (null: unlimited) and its usage, in bytes.</summary>
internal readonly record struct QuotaState(long? Limit, long Used)
{
    /// <summary>Whether <paramref name="bytes"/> more still fit (RFC 9208 §4.2: the operation would take the usage over the limit).</summary>
    public bool Admits(long bytes) => Limit is not { } limit || Used + bytes <= limit;
}

/// <summary>
/// The quota check of every way mail comes into a mailbox (LMTP, submission, IMAP APPEND and COPY):
/// the limit from the store, read each time (a CLI change counts at once), the usage from
/// <see cref="MailboxUsage"/>, looked at only when there is a limit. Two deliveries checked at the
/// same moment can both pass and overshoot by one message, as with Dovecot's quota.
/// </summary>
internal sealed class MailboxQuota(IMailboxQuotas quotas, MaildirLocator locator, MailboxUsage usage)
{
    public async Task<QuotaState> StateAsync(EmailAddress mailbox, CancellationToken cancellationToken)
    {
        var limit = await quotas.FindLimitAsync(mailbox, cancellationToken);
        return new QuotaState(limit, usage.Bytes(locator.InboxPath(mailbox)));
    }

    /// <summary>Whether a message of <paramref name="bytes"/> fits; the usage is counted only when the mailbox has a quota.</summary>
    public async Task<bool> AdmitsAsync(EmailAddress mailbox, long bytes, CancellationToken cancellationToken)
    {
        var limit = await quotas.FindLimitAsync(mailbox, cancellationToken);
        return limit is null || new QuotaState(limit, usage.Bytes(locator.InboxPath(mailbox))).Admits(bytes);
    }
}
