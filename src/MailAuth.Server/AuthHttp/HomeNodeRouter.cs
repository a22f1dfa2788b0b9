using System.Data.Common;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Nodes;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.AuthHttp;

/// <summary>
/// Where nginx hands a logged-in client: with <c>MailAuth:Nodes</c> listed, to the mailbox's home
/// node (one read of the store by the address index, made only after a good password, so a wrong
/// one costs no read); a mailbox homed here and not listed, or with no home, goes to the backend
/// <see cref="MailBackends"/> names, as on one node. A home node the settings do not list, one that
/// offers no port for the protocol, or a store that does not answer is a temporary failure:
/// never a wrong password, never another node's backend.
/// </summary>
internal sealed partial class HomeNodeRouter(ClusterNodes nodes, IMailboxHomes homes, ILogger<HomeNodeRouter> logger)
{
    /// <summary>The backend for <paramref name="address"/>, or null when it cannot be reached now.</summary>
    public async Task<MailBackendEndpoint?> RouteAsync(
        EmailAddress address, MailProxyProtocol protocol, MailBackendEndpoint configured, CancellationToken cancellationToken)
    {
        if (!nodes.Listed)
        {
            return configured;
        }
        string? home;
        try
        {
            home = await homes.FindHomeNodeAsync(address, cancellationToken);
        }
        catch (DbException e)
        {
            LogStoreUnavailable(address.ToString(), e.Message);
            return null;
        }
        if (home is null)
        {
            return configured;
        }
        if (nodes.Find(home) is not { } node)
        {
            if (home == nodes.ThisNode)
            {
                return configured;
            }
            LogUnknownNode(address.ToString(), home);
            return null;
        }
        var port = protocol switch
        {
            MailProxyProtocol.Imap => node.ImapPort,
            MailProxyProtocol.Pop3 => node.Pop3Port,
            _ => node.SmtpPort,
        };
        if (port == 0)
        {
            LogNoPort(address.ToString(), home, protocol.ToString().ToUpperInvariant());
            return null;
        }
        return new MailBackendEndpoint(node.Address, port);
    }

    [LoggerMessage(EventId = 826, Level = LogLevel.Warning,
        Message = "auth-http: {Address} is homed on node {Node}, which MailAuth:Nodes does not list; answered a temporary failure")]
    private partial void LogUnknownNode(string address, string node);

    [LoggerMessage(EventId = 827, Level = LogLevel.Warning,
        Message = "auth-http: {Address} is homed on node {Node}, whose MailAuth:Nodes Address has no {Protocol} port; answered a temporary failure")]
    private partial void LogNoPort(string address, string node, string protocol);

    [LoggerMessage(EventId = 828, Level = LogLevel.Warning,
        Message = "auth-http: the home node of {Address} could not be read ({Reason}); answered a temporary failure")]
    private partial void LogStoreUnavailable(string address, string reason);
}
