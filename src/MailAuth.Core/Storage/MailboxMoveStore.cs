using System.Data;
using System.Data.Common;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>
/// The move mark in the mailbox row (<c>moving_to</c>, <c>moving_messages</c>, <c>moving_bytes</c>).
/// Beginning and ending a move are changes that end sessions (the change log reaches every node) and
/// audit rows, in the transaction that makes them.
/// </summary>
internal sealed class MailboxMoveStore(StoreDatabase database, StoreJournal journal, TimeProvider clock) : IMailboxMoves
{
    public async Task<bool> IsMovingAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT moving_to IS NOT NULL FROM mailboxes WHERE address = @address";
        command.AddParameter("@address", address.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is { } moving && Convert.ToBoolean(moving, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<MailboxMoveState?> FindAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT coalesce(m.home_node, d.default_node), m.moving_to, m.moving_messages, m.moving_bytes
            FROM mailboxes m JOIN domains d ON d.id = m.domain_id WHERE m.address = @address
            """;
        command.AddParameter("@address", address.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var home = await reader.IsDBNullAsync(0, cancellationToken) ? null : reader.GetString(0);
        var movingTo = await reader.IsDBNullAsync(1, cancellationToken) ? null : reader.GetString(1);
        var contents = await reader.IsDBNullAsync(2, cancellationToken) ? (MaildirContents?)null : new MaildirContents(reader.GetInt64(2), reader.GetInt64(3));
        return new MailboxMoveState(home, movingTo, contents);
    }

    public Task BeginAsync(EmailAddress address, string node, CancellationToken cancellationToken) =>
        ChangeAsync(address, "moving_to = @node, moving_messages = NULL, moving_bytes = NULL", "", node,
            "mailbox.moving", $"to node {node}", cancellationToken);

    public async Task RecordContentsAsync(EmailAddress address, MaildirContents contents, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE mailboxes SET moving_messages = @messages, moving_bytes = @bytes WHERE address = @address AND moving_to IS NOT NULL";
        command.AddParameter("@messages", DbType.Int64).Value = contents.Messages;
        command.AddParameter("@bytes", DbType.Int64).Value = contents.Bytes;
        command.AddParameter("@address", address.ToString());
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new CredentialOperationException($"mailbox {address} is not being moved", CredentialRefusal.Conflict);
        }
    }

    public async Task FinishAsync(EmailAddress address, string node, CancellationToken cancellationToken)
    {
        var state = await FindAsync(address, cancellationToken);
        await ChangeAsync(address, "home_node = @node, moving_to = NULL, moving_messages = NULL, moving_bytes = NULL", " AND moving_to = @node",
            node, "mailbox.moved", $"to node {node} from {state?.HomeNode ?? "(none)"}: {state?.Contents} copied and checked", cancellationToken);
    }

    private async Task ChangeAsync(
        EmailAddress address, string assignments, string condition, string? node, string auditEvent, string reason,
        CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = $"UPDATE mailboxes SET {assignments} WHERE address = @address{condition}";
            command.AddParameter("@node", (object?)node ?? DBNull.Value);
            command.AddParameter("@address", address.ToString());
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw condition.Length == 0
                    ? new CredentialOperationException($"mailbox {address} does not exist", CredentialRefusal.NotFound)
                    : new CredentialOperationException($"mailbox {address} is not being moved to node {node}", CredentialRefusal.Conflict);
            }
        }
        // Sessions end on every node: none may go on writing into the Maildir being copied, or the one left behind.
        await MailboxChangeLog.RecordAsync(connection, transaction, address, MailboxChangeKind.Moved, endsSessions: true, clock.GetUtcNow(), cancellationToken);
        await journal.AuditAsync(connection, transaction, Actor.Admin, auditEvent, address.ToString(), reason, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
