using System.Data.Common;
using MailAuth.Core.Addresses;

namespace MailAuth.Core.Storage;

/// <summary>A mailbox row affected by an admin change.</summary>
internal readonly record struct MailboxRow(long Id, EmailAddress Address);

/// <summary>
/// Lets the manager-account side react to mailbox changes inside the same transaction (dissolve
/// a unification, start login-identifier recovery), so that neither half can happen alone.
/// </summary>
internal interface IMailboxChangeHook
{
    /// <summary>Before the rows are deleted (the mailbox was removed, or its domain's mail service cancelled).</summary>
    Task OnMailboxesRemovingAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<MailboxRow> mailboxes, string reason,
        CancellationToken cancellationToken);

    /// <summary>Before a domain row is deleted, after its mailboxes: its mail service is cancelled.</summary>
    Task OnDomainRemovingAsync(
        DbConnection connection, DbTransaction transaction, string domain, CancellationToken cancellationToken);

    /// <summary>The mailbox password was set by a path other than its unified account (admin reset, import, its holder).</summary>
    Task OnMailboxPasswordSetAsync(
        DbConnection connection, DbTransaction transaction, MailboxRow mailbox, Audit.Actor actor, string reason,
        CancellationToken cancellationToken);
}
