using MailAuth.Core.Addresses;
using MailAuth.Server.Smtp;

namespace MailAuth.Server.Lmtp;

/// <summary>The envelope built by MAIL and RCPT; dropped by RSET, LHLO and after DATA.</summary>
internal sealed class LmtpTransaction(MailFromArguments mailFrom)
{
    public MailFromArguments MailFrom { get; } = mailFrom;

    /// <summary>
    /// One entry per accepted RCPT, in order, duplicates included: after DATA each gets its own
    /// reply (RFC 2033 §4.2), while a mailbox named twice gets one copy.
    /// </summary>
    public List<EmailAddress> Recipients { get; } = [];
}
