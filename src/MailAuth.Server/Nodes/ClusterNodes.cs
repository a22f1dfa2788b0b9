using System.Net;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Hosting;

namespace MailAuth.Server.Nodes;

/// <summary>
/// This node's name (<c>MailAuth:NodeName</c>, else the host name) and the nodes the settings list
/// (<c>MailAuth:Nodes</c>), by normalised name. A mailbox's home node must be one of them.
/// </summary>
internal sealed class ClusterNodes
{
    private readonly Dictionary<string, NodeAddress> _configured = new(StringComparer.Ordinal);

    public ClusterNodes(MailAuthOptions options)
    {
        ThisNode = ThisNodeName(options, out var error) ?? throw new ConfigurationException(error);
        foreach (var (name, node) in options.Nodes)
        {
            // Validated at start (MailAuthOptions.Validate): both parse.
            _configured[NodeName.Normalize(name)] = NodeAddress.TryParse(node.Address, options, out _)!;
        }
    }

    /// <summary>The normalised name of the node this process runs on.</summary>
    public string ThisNode { get; }

    /// <summary>Whether the settings list any node: only then does auth_http route by home node.</summary>
    public bool Listed => _configured.Count > 0;

    /// <summary>Listed nodes by name, in name order.</summary>
    public IEnumerable<KeyValuePair<string, NodeAddress>> Configured => _configured.OrderBy(node => node.Key, StringComparer.Ordinal);

    /// <summary>Where <paramref name="name"/> (normalised) is reached, when the settings list it.</summary>
    public NodeAddress? Find(string name) => _configured.GetValueOrDefault(name);

    /// <summary>Whether a mailbox may be homed on <paramref name="name"/> (normalised): this node or a listed one.</summary>
    public bool IsKnown(string name) => name == ThisNode || _configured.ContainsKey(name);

    /// <summary><c>MailAuth:NodeName</c>, else the host name, normalised; null with the reason when it is not a node name.</summary>
    public static string? ThisNodeName(MailAuthOptions options, out string error)
    {
        var name = options.NodeName.Length > 0 ? options.NodeName : Dns.GetHostName();
        if (NodeName.TryNormalize(name, out var normalized, out error))
        {
            return normalized;
        }
        error = options.NodeName.Length > 0
            ? $"MailAuth:NodeName: {error}"
            : $"MailAuth:NodeName is empty and the host name cannot be a node name ({error}); set MailAuth:NodeName";
        return null;
    }
}
