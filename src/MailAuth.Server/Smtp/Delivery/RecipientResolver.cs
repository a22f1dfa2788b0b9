using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Server.Smtp.Delivery;

internal enum RecipientKind
{
    /// <summary>An enabled local mailbox: delivered into its Maildir.</summary>
    LocalMailbox,

    /// <summary>A local mailbox that an admin disabled: refused, so that mail does not pile up unread.</summary>
    DisabledMailbox,

    /// <summary>A domain we host, but no such mailbox.</summary>
    UnknownLocalMailbox,

    /// <summary>Any other domain: the relay host's business.</summary>
    Remote,
}

/// <summary>
/// Decides what a recipient is for submission, from the recipient directory: it holds no
/// credentials, and never reaches the manager-account store.
/// </summary>
internal sealed class RecipientResolver(IRecipientDirectory directory)
{
    public async Task<RecipientKind> ResolveAsync(EmailAddress address, CancellationToken cancellationToken) =>
        await directory.FindAsync(address, cancellationToken) switch
        {
            RecipientStatus.Mailbox => RecipientKind.LocalMailbox,
            RecipientStatus.DisabledMailbox => RecipientKind.DisabledMailbox,
            RecipientStatus.UnknownInHostedDomain => RecipientKind.UnknownLocalMailbox,
            _ => RecipientKind.Remote,
        };
}
