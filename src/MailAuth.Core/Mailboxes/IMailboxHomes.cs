using MailAuth.Core.Addresses;

namespace MailAuth.Core.Mailboxes;

/// <summary>
/// Which MailAuth node holds each mailbox's Maildir: the mailbox's own home node, else its
/// domain's default node; none for mailboxes added before home nodes existed (or imported).
/// </summary>
public interface IMailboxHomes
{
    /// <summary>
    /// The home node of <paramref name="address"/> (normalised), or null when it has none or does not
    /// exist: one read by the mailbox's unique address index, made by nginx's auth_http after a good login.
    /// </summary>
    Task<string?> FindHomeNodeAsync(EmailAddress address, CancellationToken cancellationToken);

    /// <summary>The default node of <paramref name="domain"/> (normalised); null when it has none or does not exist.</summary>
    Task<string?> FindDomainNodeAsync(string domain, CancellationToken cancellationToken);

    /// <summary>How many mailboxes each node is home to; <see cref="NodeMailboxCount.Node"/> null counts those with none.</summary>
    Task<IReadOnlyList<NodeMailboxCount>> CountMailboxesByNodeAsync(CancellationToken cancellationToken);
}

/// <summary>A node and the number of mailboxes whose home it is (<see cref="Node"/> null: no home assigned).</summary>
public sealed record NodeMailboxCount(string? Node, int Mailboxes);
