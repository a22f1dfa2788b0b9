using System.CommandLine;
using System.Text.Json;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

/// <summary><c>node list</c>, and the <c>--node NAME</c> option of <c>mailbox add</c> and <c>domain add</c>.</summary>
internal static class NodeCommands
{
    public static Command Create()
    {
        var node = new Command("node", "The MailAuth nodes sharing this store, and the mailboxes each is home to");
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var list = new Command("list", "List this node, the nodes in MailAuth:Nodes, and the home nodes found in the store") { json };
        list.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var nodes = services.GetRequiredService<ClusterNodes>();
            var counts = await services.GetRequiredService<IMailboxHomes>().CountMailboxesByNodeAsync(ct);
            var homes = counts.Where(c => c.Node is not null).ToDictionary(c => c.Node!, c => c.Mailboxes, StringComparer.Ordinal);
            var rows = nodes.Configured.Select(c => c.Key)
                .Append(nodes.ThisNode)
                .Concat(homes.Keys)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .Select(name => new
                {
                    name,
                    address = nodes.Find(name) is { } a ? $"{a.Address} imap={a.ImapPort} pop3={a.Pop3Port} smtp={a.SmtpPort} lmtp={a.LmtpPort}" : null,
                    thisNode = name == nodes.ThisNode,
                    known = nodes.IsKnown(name),
                    mailboxes = homes.GetValueOrDefault(name),
                })
                .ToList();
            var homeless = counts.Where(c => c.Node is null).Sum(c => c.Mailboxes);
            if (parse.GetValue(json))
            {
                await parse.Output().WriteLineAsync(JsonSerializer.Serialize(new { nodes = rows, mailboxesWithoutHome = homeless }, CliContext.Json));
                return ExitCodes.Success;
            }
            foreach (var row in rows)
            {
                var notes = string.Join(", ", new[]
                {
                    row.thisNode ? "this node" : null,
                    row.known ? null : "unknown: not in MailAuth:Nodes",
                }.OfType<string>());
                await parse.Output().WriteLineAsync(
                    $"{row.name}\t{row.address ?? "-"}\t{row.mailboxes} mailbox(es){(notes.Length > 0 ? "\t" + notes : "")}");
            }
            if (homeless > 0)
            {
                await parse.Output().WriteLineAsync($"(none)\t-\t{homeless} mailbox(es)\trouted by MailAuth:AuthHttp:Backends");
            }
            return ExitCodes.Success;
        }));
        node.Add(list);
        return node;
    }

    /// <summary>The <c>--node NAME</c> option; its value is checked with <see cref="TryResolve"/>.</summary>
    public static Option<string?> Option(string description) => new("--node") { Description = description };

    /// <summary>
    /// The normalised node the option names (null when not given); a malformed name, or one that
    /// is neither this node nor listed in <c>MailAuth:Nodes</c>, is one line on stderr and false.
    /// </summary>
    public static bool TryResolve(ParseResult parse, Option<string?> option, IServiceProvider services, out string? node)
    {
        node = null;
        if (parse.GetValue(option) is not { } given)
        {
            return true;
        }
        var nodes = services.GetRequiredService<ClusterNodes>();
        if (!NodeName.TryNormalize(given, out var normalized, out var error))
        {
            CliContext.Fail(parse, error, ExitCodes.Usage);
            return false;
        }
        if (!nodes.IsKnown(normalized))
        {
            CliContext.Fail(parse,
                $"node {normalized} is neither this node ({nodes.ThisNode}) nor listed in MailAuth:Nodes (see 'node list')", ExitCodes.Usage);
            return false;
        }
        node = normalized;
        return true;
    }
}
