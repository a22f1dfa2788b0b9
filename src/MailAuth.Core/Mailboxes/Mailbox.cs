using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

public sealed record Domain(string Name, DateTimeOffset CreatedAt, int MailboxCount);

/// <summary>A mailbox as the admin sees it; never carries the password hash.</summary>
public sealed record Mailbox(
    EmailAddress Address,
    string? DisabledReason,
    string HashScheme,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public bool IsDisabled => DisabledReason is not null;
}

/// <summary>
/// What the login path reads for one address. <see cref="CredentialVersion"/> changes on every
/// password change, disable and enable, so anything derived from a login can tell it is stale.
/// <see cref="ChangeLogPosition"/> is the position of the mailbox change log read in the same
/// snapshot: a session opened with this credential ends at any later change that ends sessions.
/// </summary>
public sealed record MailboxCredential(
    EmailAddress Address,
    string PasswordHash,
    bool IsDisabled,
    long CredentialVersion,
    long ChangeLogPosition = 0);

/// <summary>One mailbox of an import, its hash already in stored <c>{SCHEME}…</c> form.</summary>
public sealed record ImportedMailbox(EmailAddress Address, string PasswordHash);
