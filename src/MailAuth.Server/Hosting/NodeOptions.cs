using System.Globalization;
using System.Net;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Server.Hosting;

/// <summary>
/// <c>MailAuth:Nodes:NAME</c>: where another MailAuth node (or this one, when every node shares one
/// list) is reached. <see cref="Address"/> is an IP address followed by the ports that differ from
/// this node's own, e.g. <c>192.0.2.11 imap=143 lmtp=2424</c> (see <see cref="NodeAddress"/>).
/// </summary>
internal sealed class NodeOptions
{
    public string Address { get; set; } = "";
}

/// <summary>
/// A node's parsed <c>Address</c>: an IP address (nginx takes no host names in an auth_http answer),
/// then <c>imap=PORT</c>, <c>pop3=PORT</c>, <c>smtp=PORT</c>, <c>lmtp=PORT</c> separated by spaces,
/// in any order. A port left out is this node's own: <c>Imap:Port</c>, the <c>AuthHttp:DefaultBackend</c>
/// POP3 and SMTP ports, <c>Lmtp:TcpPort</c> (nodes usually share their settings); 0 is "not offered".
/// </summary>
internal sealed record NodeAddress(IPAddress Address, int ImapPort, int Pop3Port, int SmtpPort, int LmtpPort)
{
    private static readonly string[] Protocols = ["imap", "pop3", "smtp", "lmtp"];

    public static NodeAddress? TryParse(string text, MailAuthOptions defaults, out string error)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || !IPAddress.TryParse(words[0], out var address))
        {
            error = $"must start with an IP address (nginx takes no host names), as in '192.0.2.11 imap=143 lmtp=2424', not '{text}'";
            return null;
        }
        var ports = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["imap"] = defaults.Imap.Port,
            ["pop3"] = defaults.AuthHttp.DefaultBackend.Pop3Port ?? 0,
            ["smtp"] = defaults.AuthHttp.DefaultBackend.SmtpPort ?? 0,
            // The port for the other nodes when this node has one; Lmtp:TcpPort is on 127.0.0.1 only.
            ["lmtp"] = defaults.Lmtp.NodePort != 0 ? defaults.Lmtp.NodePort : defaults.Lmtp.TcpPort,
        };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var word in words.Skip(1))
        {
            var equals = word.IndexOf('=', StringComparison.Ordinal);
            var protocol = equals > 0 ? word[..equals].ToLowerInvariant() : "";
            if (!Protocols.Contains(protocol) || !seen.Add(protocol)
                || !int.TryParse(word.AsSpan(equals + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            {
                error = $"has '{word}' where one each of imap=PORT, pop3=PORT, smtp=PORT, lmtp=PORT (0 to 65535) may follow the address";
                return null;
            }
            ports[protocol] = port;
        }
        error = "";
        return new NodeAddress(address, ports["imap"], ports["pop3"], ports["smtp"], ports["lmtp"]);
    }

    /// <summary>The settings' problems with <c>NodeName</c> and <c>Nodes</c>, each naming its key.</summary>
    public static IEnumerable<string> Validate(MailAuthOptions options)
    {
        if (Nodes.ClusterNodes.ThisNodeName(options, out var nameError) is null)
        {
            yield return nameError;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, node) in options.Nodes)
        {
            if (!NodeName.TryNormalize(name, out var normalized, out var error))
            {
                yield return $"MailAuth:Nodes: {error}";
                continue;
            }
            if (!names.Add(normalized))
            {
                yield return $"MailAuth:Nodes:{name} is listed twice (node names are case-insensitive)";
            }
            if (string.IsNullOrWhiteSpace(node.Address))
            {
                yield return $"MailAuth:Nodes:{name}:Address is required";
            }
            else if (TryParse(node.Address, options, out var addressError) is null)
            {
                yield return $"MailAuth:Nodes:{name}:Address {addressError}";
            }
        }
    }
}
