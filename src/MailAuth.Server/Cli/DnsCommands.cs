using System.CommandLine;
using System.Text.Json;
using MailAuth.Core;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Hosting;
using MailAuth.Server.Web;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

internal static class DnsCommands
{
    public static Command Create()
    {
        var dns = new Command("dns", "DNS records for the hosted domains");
        var domain = new Argument<string>("domain") { Description = "A hosted domain" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var records = new Command("records", "Print the records to publish so that mail clients find the servers (MX, RFC 6186 SRV, autoconfig, Autodiscover)") { domain, json };
        records.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var given = parse.GetRequiredValue(domain);
            if (!AddressNormalizer.TryNormalizeDomain(given, out var name, out var reason))
            {
                throw new CredentialOperationException($"invalid domain '{AddressNormalizer.Printable(given)}': {reason}");
            }
            if (!await services.GetRequiredService<IRecipientDirectory>().IsHostedDomainAsync(name, ct))
            {
                throw new CredentialOperationException($"domain {name} is not hosted here (see mailauth domain list)");
            }
            var options = services.GetRequiredService<MailAuthOptions>();
            var list = DnsRecords.For(name, options);
            var notes = DnsRecords.Notes(name, options);
            if (parse.GetValue(json))
            {
                await parse.Output().WriteLineAsync(JsonSerializer.Serialize(new
                {
                    domain = name,
                    ttl = DnsRecords.Ttl,
                    records = list.Select(r => new { name = r.Name, type = r.Type, value = r.Value }),
                    notes,
                }, CliContext.Json));
                return ExitCodes.Success;
            }
            var width = list.Max(r => r.Name.Length);
            foreach (var record in list)
            {
                await parse.Output().WriteLineAsync($"{record.Name.PadRight(width)} {DnsRecords.Ttl} IN {record.Type,-5} {record.Value}");
            }
            foreach (var note in notes)
            {
                await parse.Output().WriteLineAsync("; " + note);
            }
            return ExitCodes.Success;
        }));
        dns.Add(records);
        return dns;
    }
}
