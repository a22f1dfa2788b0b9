using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Server.Web;

/// <summary>
/// Which domain a set-up request is about, and whether it is hosted here. Only the domain is ever
/// looked up, never the mailbox: any address of a hosted domain gets the same settings, so the
/// answers cannot tell which mailboxes exist.
/// </summary>
internal sealed class HostedDomainLookup(IRecipientDirectory directory)
{
    /// <summary>The normalised domain when it is hosted here; null for a name that is not a domain or not hosted.</summary>
    public async Task<string?> HostedAsync(string? domain, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(domain) || !AddressNormalizer.TryNormalizeDomain(domain, out var name, out _))
        {
            return null;
        }
        return await directory.IsHostedDomainAsync(name, cancellationToken) ? name : null;
    }

    /// <summary>
    /// The domain of <paramref name="address"/>, or when there is none the host the request was sent
    /// to without its <c>autoconfig.</c>/<c>autodiscover.</c> label (Thunderbird's
    /// <c>http://autoconfig.DOMAIN/mail/config-v1.1.xml</c>). Null when the address is malformed.
    /// </summary>
    public static string? DomainOf(string? address, string requestHost)
    {
        if (!string.IsNullOrEmpty(address))
        {
            return AddressNormalizer.TryNormalize(address, out var parsed, out _) ? parsed.Domain : null;
        }
        foreach (var label in new[] { "autoconfig.", "autodiscover." })
        {
            if (requestHost.StartsWith(label, StringComparison.OrdinalIgnoreCase))
            {
                return requestHost[label.Length..];
            }
        }
        return requestHost;
    }
}
