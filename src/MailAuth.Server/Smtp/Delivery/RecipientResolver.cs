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
/// Decides what a recipient is. Reads the mailbox credential store (the same record a login
/// reads) and the list of hosted domains; never the manager-account store.
/// </summary>
internal sealed class RecipientResolver(IMailboxCredentialStore credentials)
{
    public async Task<RecipientKind> ResolveAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        var mailbox = await credentials.FindAsync(address, cancellationToken);
        if (mailbox is not null)
        {
            return mailbox.IsDisabled ? RecipientKind.DisabledMailbox : RecipientKind.LocalMailbox;
        }
        // Asked each time rather than cached: a domain added with the CLI counts at once, and the
        // query is one indexed read.
        return await credentials.IsHostedDomainAsync(address.Domain, cancellationToken)
            ? RecipientKind.UnknownLocalMailbox
            : RecipientKind.Remote;
    }
}
