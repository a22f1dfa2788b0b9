using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

/// <summary>What happened to a mailbox's credential.</summary>
public enum MailboxChangeKind
{
    PasswordChanged,
    Disabled,
    Enabled,
    Removed,

    /// <summary>A move of the mailbox's Maildir to another node began or ended (<c>mailbox move</c>).</summary>
    Moved,
}

/// <summary>
/// One row of the mailbox change log. <see cref="Position"/> grows with every change and is
/// never reused; <see cref="EndsSessions"/> says whether sessions opened before it must end.
/// </summary>
public sealed record MailboxChange(long Position, EmailAddress Address, MailboxChangeKind Kind, bool EndsSessions);

/// <summary>
/// The mailbox change log as servers read it: every change made by any process (server, CLI)
/// that must reach the sessions of a mailbox. A session that logged in when the log was at
/// position P (<see cref="MailboxCredential.ChangeLogPosition"/>) is invalidated by any later
/// change of its mailbox that ends sessions.
/// </summary>
public interface IMailboxChangeFeed
{
    /// <summary>The position of the newest change (0 when there is none).</summary>
    Task<long> LatestPositionAsync(CancellationToken cancellationToken);

    /// <summary>Changes after <paramref name="position"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<MailboxChange>> ReadAfterAsync(long position, int limit, CancellationToken cancellationToken);

    /// <summary>Whether a change of <paramref name="address"/> after <paramref name="position"/> ends its sessions.</summary>
    Task<bool> EndsSessionsAfterAsync(EmailAddress address, long position, CancellationToken cancellationToken);

    /// <summary>Forgets changes older than <paramref name="age"/>; returns how many rows went.</summary>
    Task<int> PruneAsync(TimeSpan age, CancellationToken cancellationToken);
}
