using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

/// <summary>
/// A domain; <see cref="DefaultQuotaBytes"/> is the quota of its mailboxes that have none of their own
/// (null: unlimited), <see cref="DefaultNode"/> the home node of those that have none (null: none).
/// </summary>
public sealed record Domain(string Name, DateTimeOffset CreatedAt, int MailboxCount, long? DefaultQuotaBytes = null, string? DefaultNode = null);

/// <summary>
/// A mailbox as the admin sees it; never carries the password hash. <see cref="QuotaBytes"/> is its
/// own quota, <see cref="DomainQuotaBytes"/> its domain's default, which applies when it has none;
/// likewise <see cref="HomeNode"/> and <see cref="DomainNode"/> for the node that holds its Maildir.
/// </summary>
public sealed record Mailbox(
    EmailAddress Address,
    string? DisabledReason,
    string HashScheme,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long? QuotaBytes = null,
    long? DomainQuotaBytes = null,
    string? HomeNode = null,
    string? DomainNode = null)
{
    public bool IsDisabled => DisabledReason is not null;

    /// <summary>The node that holds the mailbox (null: none assigned).</summary>
    public string? EffectiveHomeNode => HomeNode ?? DomainNode;

    /// <summary>The quota that applies (null: unlimited).</summary>
    public long? EffectiveQuotaBytes => QuotaBytes ?? DomainQuotaBytes;
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
