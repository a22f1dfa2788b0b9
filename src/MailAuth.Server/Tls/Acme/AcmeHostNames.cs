using MailAuth.Core.Mailboxes;
using MailAuth.Server.Hosting;

namespace MailAuth.Server.Tls.Acme;

/// <summary>
/// The names the ACME certificate should cover now: <c>MailAuth:Tls:Acme:HostNames</c> when set;
/// otherwise <c>MailAuth:Smtp:HostName</c> (else the machine's name) and, with the web listener on,
/// <c>autoconfig.DOMAIN</c> and <c>autodiscover.DOMAIN</c> of every hosted domain, which
/// Thunderbird and Outlook fetch their set-up from over HTTPS.
/// </summary>
internal sealed class AcmeHostNames(MailAuthOptions options, IMailboxDirectory? directory)
{
    private static readonly string[] SetUpLabels = ["autoconfig.", "autodiscover."];

    /// <summary>Whether the names follow the hosted domains, so a domain added or removed changes them.</summary>
    public bool FollowsDomains => options.Tls.Acme.HostNames is null && options.Web.Enabled && directory is not null;

    /// <summary>The names in a stable order, the host name first (the certificate's subject).</summary>
    public async Task<IReadOnlyList<string>> WantedAsync(CancellationToken cancellationToken)
    {
        var names = new List<string>(options.Tls.Acme.EffectiveHostNames(options.Smtp));
        if (!FollowsDomains)
        {
            return names;
        }
        var seen = names.ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var domain in (await directory!.ListDomainsAsync(cancellationToken)).Select(d => d.Name).Order(StringComparer.Ordinal))
        {
            foreach (var label in SetUpLabels)
            {
                // A name over 253 octets is refused by every CA (and would fail the whole order).
                if (label.Length + domain.Length <= 253 && seen.Add(label + domain))
                {
                    names.Add(label + domain);
                }
            }
        }
        return names;
    }
}
