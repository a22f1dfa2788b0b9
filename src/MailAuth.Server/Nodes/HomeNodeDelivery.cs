using System.Data.Common;
using System.Net;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Smtp;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Nodes;

/// <summary>
/// Keeps mail for a mailbox homed on another node off this node's disk: with <c>MailAuth:Nodes</c>
/// listed, each recipient's home node is read (one read by the address index) and those homed on
/// another listed node are handed to that node's LMTP port, one connection per node, each
/// recipient getting that node's own answer. A home node the settings do not list or whose
/// <c>Address</c> offers no LMTP port, a node that does not answer, or a store that does not answer
/// is a temporary failure (4xx): never a copy here, never a bounce. Without <c>Nodes</c> (one
/// machine), a mailbox homed here, or one with no home, is delivered here and nothing is read.
/// </summary>
internal sealed partial class HomeNodeDelivery(ClusterNodes nodes, IMailboxHomes homes, NodeLmtpClient client, ILogger<HomeNodeDelivery> logger)
{
    /// <summary>RFC 3463 §3.4 X.3.0, transient, as LMTP answers when the mailbox database fails.</summary>
    public const string HomeUnknown = "451 4.3.0 Mailbox database unavailable, try again later";

    /// <summary>
    /// RFC 3463 §3.5 X.4.6, transient: a node handed a message here for a mailbox this node does not
    /// hold either (the nodes' stores or settings disagree, e.g. during a move). Handing it on could
    /// loop, so the first node keeps it queued and retries.
    /// </summary>
    public static string NotHomedHere(string home) => $"451 4.4.6 Mailbox homed on node {home}, not here; try again later";

    /// <summary>
    /// The answers for the recipients homed on another node (handed over, or a 4xx); a recipient
    /// not in the result is to be delivered here. Without <paramref name="mayHandOn"/> (the message came
    /// from another node) such a recipient gets <see cref="NotHomedHere"/> instead of a hand-over.
    /// </summary>
    public async Task<IReadOnlyDictionary<EmailAddress, string>> HandOverAsync(
        IEnumerable<EmailAddress> recipients, Stream message, MailFromArguments mailFrom, string id, bool mayHandOn, CancellationToken cancellationToken)
    {
        var replies = new Dictionary<EmailAddress, string>();
        if (!nodes.Listed)
        {
            return replies;
        }
        var byNode = new Dictionary<string, List<EmailAddress>>(StringComparer.Ordinal);
        foreach (var recipient in recipients.Distinct())
        {
            string? home;
            try
            {
                home = await homes.FindHomeNodeAsync(recipient, cancellationToken);
            }
            catch (DbException e)
            {
                LogStoreUnavailable(id, recipient.ToString(), e.Message);
                replies[recipient] = HomeUnknown;
                continue;
            }
            if (home is null || home == nodes.ThisNode)
            {
                continue;
            }
            if (!mayHandOn)
            {
                LogNotHandedOn(id, recipient.ToString(), home);
                replies[recipient] = NotHomedHere(home);
                continue;
            }
            if (!byNode.TryGetValue(home, out var list))
            {
                byNode[home] = list = [];
            }
            list.Add(recipient);
        }
        foreach (var (home, list) in byNode)
        {
            if (nodes.Find(home) is not { LmtpPort: > 0 } node)
            {
                LogNotListed(id, home, list.Count);
                foreach (var recipient in list)
                {
                    replies[recipient] = NodeLmtpClient.Unreachable(home);
                }
                continue;
            }
            message.Position = 0;
            var endpoint = new IPEndPoint(node.Address, node.LmtpPort);
            var answers = await client.SendAsync(
                home, endpoint, mailFrom.ReversePath, [.. list.Select(r => r.ToString())], message, mailFrom, cancellationToken);
            for (var i = 0; i < list.Count; i++)
            {
                replies[list[i]] = answers[i];
                LogHandedOver(id, list[i].ToString(), home, endpoint.ToString(), answers[i]);
            }
        }
        return replies;
    }

    [LoggerMessage(EventId = 1760, Level = LogLevel.Information,
        Message = "home node: message id={Id} to={Recipient} handed to node {Node} at {Endpoint} over LMTP: {Reply}")]
    private partial void LogHandedOver(string id, string recipient, string node, string endpoint, string reply);

    [LoggerMessage(EventId = 1761, Level = LogLevel.Warning,
        Message = "home node: message id={Id}: {Count} recipient(s) homed on node {Node}, which MailAuth:Nodes does not list with an lmtp port; answered a temporary failure")]
    private partial void LogNotListed(string id, string node, int count);

    [LoggerMessage(EventId = 1767, Level = LogLevel.Warning,
        Message = "home node: message id={Id} to={Recipient} was handed here by another node but is homed on node {Node}; not handed on (a loop), answered a temporary failure")]
    private partial void LogNotHandedOn(string id, string recipient, string node);

    [LoggerMessage(EventId = 1762, Level = LogLevel.Error,
        Message = "home node: message id={Id} to={Recipient}: the home node could not be read ({Reason}); answered a temporary failure")]
    private partial void LogStoreUnavailable(string id, string recipient, string reason);
}
