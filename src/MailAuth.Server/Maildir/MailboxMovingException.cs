using MailAuth.Core.Addresses;

namespace MailAuth.Server.Maildir;

/// <summary>
/// The mailbox is being moved to another node: nothing was stored. An I/O failure to its callers,
/// so LMTP and submission answer their temporary 452 4.3.1 and the MTA retries after the move.
/// </summary>
internal sealed class MailboxMovingException(EmailAddress recipient)
    : IOException($"mailbox {recipient} is being moved to another node; try again later");
