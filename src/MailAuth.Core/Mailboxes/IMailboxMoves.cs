using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

/// <summary>
/// A mailbox's Maildir on its way to another node (<c>mailbox move</c>): while the mark is set,
/// deliveries to it answer a temporary failure (the MTA keeps the message and retries), and setting
/// or clearing it ends the mailbox's open sessions on every node.
/// </summary>
public interface IMailboxMoves
{
    /// <summary>Whether <paramref name="address"/> is being moved: one read by the address index, made before each delivery is committed.</summary>
    Task<bool> IsMovingAsync(EmailAddress address, CancellationToken cancellationToken);

    /// <summary>The mailbox's home and move state; null when it does not exist.</summary>
    Task<MailboxMoveState?> FindAsync(EmailAddress address, CancellationToken cancellationToken);

    /// <summary>Marks the mailbox as moving to <paramref name="node"/> (again, if a move there was left unfinished).</summary>
    Task BeginAsync(EmailAddress address, string node, CancellationToken cancellationToken);

    /// <summary>What the Maildir held once deliveries were fenced off: the copy is checked against it.</summary>
    Task RecordContentsAsync(EmailAddress address, MaildirContents contents, CancellationToken cancellationToken);

    /// <summary>Makes the move's target the mailbox's home node and clears the mark; refused (Conflict) when no move to <paramref name="node"/> is under way.</summary>
    Task FinishAsync(EmailAddress address, string node, CancellationToken cancellationToken);
}

/// <summary>A mailbox's home node (its own or its domain's; null: none) and the move under way, if any.</summary>
public sealed record MailboxMoveState(string? HomeNode, string? MovingTo, MaildirContents? Contents);

/// <summary>The messages of every folder of a Maildir and their bytes.</summary>
public readonly record struct MaildirContents(long Messages, long Bytes)
{
    public override string ToString() => $"{Messages} message(s), {Bytes} bytes";
}
