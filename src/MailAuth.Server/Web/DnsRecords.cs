using System.Globalization;
using MailAuth.Server.Hosting;

namespace MailAuth.Server.Web;

internal sealed record DnsRecord(string Name, string Type, string Value);

/// <summary>
/// The DNS records an operator publishes for a hosted domain so that clients find the servers by
/// themselves: RFC 6186 SRV records (with RFC 8314 §5.1's preference for implicit TLS), the names
/// autoconfig and Autodiscover are looked up at, and the MX. Built from the same settings as the
/// set-up answers (<see cref="MailServerSettings"/>).
/// </summary>
internal static class DnsRecords
{
    public const int Ttl = 3600;

    public static IReadOnlyList<DnsRecord> For(string domain, MailAuthOptions options)
    {
        var settings = new MailServerSettings(options);
        var host = settings.HostName.TrimEnd('.') + ".";
        var records = new List<DnsRecord>
        {
            // The MX names the MTA that receives the domain's mail (Postfix in front of MailAuth), assumed on the same host.
            new(domain + ".", "MX", "10 " + host),
            Srv("_imaps", domain, options.Imap.TlsPort, priority: 0, host),
            Srv("_imap", domain, options.Imap.Port, priority: 10, host),
            Srv("_submissions", domain, options.Smtp.SubmissionsPort, priority: 0, host),
            Srv("_submission", domain, options.Smtp.SubmissionPort, priority: 10, host),
            // RFC 6186 §4: a target of "." says the service is not offered; MailAuth has no POP3.
            new($"_pop3s._tcp.{domain}.", "SRV", "0 0 0 ."),
            new($"_pop3._tcp.{domain}.", "SRV", "0 0 0 ."),
        };
        if (options.Web.Enabled)
        {
            records.Add(new($"autoconfig.{domain}.", "CNAME", host));
            records.Add(new($"autodiscover.{domain}.", "CNAME", host));
            // [MS-OXDSCLI] §3.1.5.7: Outlook's last try.
            records.Add(Srv("_autodiscover", domain, options.Web.Port, priority: 0, host));
        }
        return records;
    }

    /// <summary>What cannot be a record: what the operator must still see to.</summary>
    public static IReadOnlyList<string> Notes(string domain, MailAuthOptions options)
    {
        var notes = new List<string>();
        if (options.Smtp.HostName.Length == 0)
        {
            notes.Add($"MailAuth:Smtp:HostName is empty, so the machine's name {new MailServerSettings(options).HostName} is used: set the public host name clients connect to");
        }
        if (options.Web.Enabled)
        {
            notes.Add($"the certificate must also name autoconfig.{domain} and autodiscover.{domain} (HTTPS on port {options.Web.Port})");
            if (options.Web.HttpPort != 80)
            {
                notes.Add("Thunderbird first tries http://autoconfig." + domain + "/ on port 80: forward it to MailAuth:Web:HttpPort"
                    + (options.Web.HttpPort == 0 ? " (now 0, off)" : $" ({options.Web.HttpPort})"));
            }
        }
        else
        {
            notes.Add("MailAuth:Web:Port is 0: no autoconfig or Autodiscover names until the web listener is on");
        }
        notes.Add("SPF, DKIM and DMARC records belong to the MTA that sends and receives this domain's mail (Postfix, its DKIM signer): publish them as it requires");
        return notes;
    }

    /// <summary>RFC 6186 §3; a disabled port (0) gets the "not offered" record of §4.</summary>
    private static DnsRecord Srv(string service, string domain, int port, int priority, string host) =>
        new($"{service}._tcp.{domain}.", "SRV", port == 0
            ? "0 0 0 ."
            : string.Create(CultureInfo.InvariantCulture, $"{priority} 1 {port} {host}"));
}
