using System.Data.Common;
using System.Security.Cryptography;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Notifications;

namespace MailAuth.Core.Storage;

/// <summary>
/// The admin's mailbox changes as they reach the manager accounts, inside the admin's transaction:
/// a removed mailbox or domain starts recovery of the accounts logging in with it, and any
/// password set by another path dissolves a unification.
/// </summary>
internal sealed partial class ManagerAccountStore
{
    async Task IMailboxChangeHook.OnMailboxesRemovingAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<MailboxRow> mailboxes, string reason,
        CancellationToken cancellationToken)
    {
        foreach (var mailbox in mailboxes)
        {
            await DissolveAsync(connection, transaction, "mailbox_id = @mailbox", null, mailbox.Id, Actor.Admin, reason, cancellationToken);
            await using var select = connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = $"SELECT {AccountColumns} FROM accounts WHERE login = @login";
            select.AddParameter("@login", mailbox.Address.ToString());
            foreach (var account in await ReadAccountsAsync(select, cancellationToken))
            {
                await StartRecoveryAsync(connection, transaction, account, reason, cancellationToken);
            }
        }
    }

    async Task IMailboxChangeHook.OnDomainRemovingAsync(
        DbConnection connection, DbTransaction transaction, string domain, CancellationToken cancellationToken)
    {
        await using var select = connection.CreateCommand();
        select.Transaction = transaction;
        // Every login identifier of the domain, whether or not it had a mailbox here.
        select.CommandText = $"SELECT {AccountColumns} FROM accounts WHERE substr(login, length(login) - length(@suffix) + 1) = @suffix";
        select.AddParameter("@suffix", "@" + domain);
        foreach (var account in await ReadAccountsAsync(select, cancellationToken))
        {
            await StartRecoveryAsync(connection, transaction, account, $"mail service of {domain} cancelled", cancellationToken);
        }
    }

    Task IMailboxChangeHook.OnMailboxPasswordSetAsync(
        DbConnection connection, DbTransaction transaction, MailboxRow mailbox, Actor actor, string reason, CancellationToken cancellationToken) =>
        DissolveAsync(connection, transaction, "mailbox_id = @mailbox", null, mailbox.Id, actor, reason, cancellationToken);
}
