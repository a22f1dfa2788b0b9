using System.CommandLine;
using System.Text.Json;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Maildir;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

internal static class DomainCommands
{
    public static Command Create()
    {
        var domain = new Command("domain", "Add, remove and list mail domains");

        var name = new Argument<string>("name") { Description = "Domain name; internationalised names are stored in ASCII (xn--) form" };
        var defaultNode = NodeCommands.Option("The home node of its new mailboxes unless 'mailbox add --node' says otherwise");
        var add = new Command("add", "Add a domain") { name, defaultNode };
        add.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            if (!NodeCommands.TryResolve(parse, defaultNode, services, out var node))
            {
                return ExitCodes.Usage;
            }
            var added = await services.GetRequiredService<MailboxAdministration>().AddDomainAsync(parse.GetRequiredValue(name), node, ct);
            await parse.Output().WriteLineAsync($"domain {added} added");
            return ExitCodes.Success;
        }));

        var withMailboxes = new Option<bool>("--with-mailboxes") { Description = "Also remove every mailbox of the domain (cancels its mail service)" };
        var remove = new Command("remove", "Remove a domain (it must be empty unless --with-mailboxes)") { name, withMailboxes };
        remove.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var removed = await services.GetRequiredService<MailboxAdministration>()
                .RemoveDomainAsync(parse.GetRequiredValue(name), parse.GetValue(withMailboxes), ct);
            await parse.Output().WriteLineAsync($"domain {parse.GetRequiredValue(name)} removed with {removed.Count} mailbox(es)");
            var archive = services.GetRequiredService<MaildirArchive>();
            foreach (var mailbox in removed)
            {
                MailboxCommands.ReportArchived(parse.Output(), archive.Archive(mailbox));
            }
            return ExitCodes.Success;
        }));

        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var list = new Command("list", "List domains") { json };
        list.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var domains = await services.GetRequiredService<MailboxAdministration>().ListDomainsAsync(ct);
            if (parse.GetValue(json))
            {
                await parse.Output().WriteLineAsync(JsonSerializer.Serialize(
                    domains.Select(d => new { name = d.Name, mailboxes = d.MailboxCount, createdAt = d.CreatedAt, defaultQuotaBytes = d.DefaultQuotaBytes, defaultNode = d.DefaultNode }),
                    CliContext.Json));
            }
            else
            {
                foreach (var d in domains)
                {
                    await parse.Output().WriteLineAsync($"{d.Name}\t{d.MailboxCount} mailbox(es)");
                }
            }
            return ExitCodes.Success;
        }));

        var size = new Argument<string>("size") { Description = "Bytes, or a number with K, M, G or T (500M, 2G); none: unlimited" };
        var quota = new Command("quota", "Set the default storage quota of the domain's mailboxes that have none of their own") { name, size };
        quota.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            if (!QuotaCommand.TryParseSize(parse, size, out var bytes))
            {
                return ExitCodes.Usage;
            }
            var changed = await services.GetRequiredService<QuotaAdministration>().SetDomainQuotaAsync(parse.GetRequiredValue(name), bytes, ct);
            await parse.Output().WriteLineAsync($"default quota of {changed} set to {QuotaSize.Format(bytes)}");
            return ExitCodes.Success;
        }));

        domain.Add(add);
        domain.Add(remove);
        domain.Add(list);
        domain.Add(quota);
        return domain;
    }
}
