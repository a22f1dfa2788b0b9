using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

/// <summary>What the directory knows of a recipient address.</summary>
public enum RecipientStatus
{
    /// <summary>A mailbox that takes mail.</summary>
    Mailbox,

    /// <summary>A mailbox an admin disabled.</summary>
    DisabledMailbox,

    /// <summary>No such mailbox, in a domain hosted here.</summary>
    UnknownInHostedDomain,

    /// <summary>A domain not hosted here.</summary>
    OtherDomain,
}

/// <summary>
/// Recipients for mail delivery: whether a mailbox exists, is disabled, or its domain is hosted.
/// It answers nothing about credentials, so mail routing never holds a password hash.
/// </summary>
public interface IRecipientDirectory
{
    Task<RecipientStatus> FindAsync(EmailAddress recipient, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="domain"/> (normalised, IDN in ASCII form) is hosted here.</summary>
    Task<bool> IsHostedDomainAsync(string domain, CancellationToken cancellationToken);
}
