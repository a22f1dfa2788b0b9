using System.Net;
using MailAuth.Core.Addresses;
using MailAuth.Server.Hosting;

namespace MailAuth.Server.AuthHttp;

/// <summary>A backend's address and the port for one protocol; port 0 means not offered there.</summary>
internal readonly record struct MailBackendEndpoint(IPAddress Address, int Port);

/// <summary>
/// Which mail server holds a domain's mailboxes, per <c>MailAuth:AuthHttp:Backends</c>, else
/// <c>DefaultBackend</c>. Left unset, the default backend is this server: 127.0.0.1 and its own
/// plain IMAP port (nginx talks to a backend without TLS); POP3 and SMTP have no default, since
/// MailAuth serves no POP3 and nginx hands SMTP to an MTA that accepts its XCLIENT.
/// </summary>
internal sealed class MailBackends
{
    private readonly Backend _default;
    private readonly Dictionary<string, Backend> _byDomain = new(StringComparer.Ordinal);

    private sealed record Backend(IPAddress Address, int Imap, int Pop3, int Smtp);

    public MailBackends(MailAuthOptions options)
    {
        var configured = options.AuthHttp.DefaultBackend;
        _default = new Backend(
            string.IsNullOrEmpty(configured.Address) ? IPAddress.Loopback : IPAddress.Parse(configured.Address),
            configured.ImapPort ?? options.Imap.Port,
            configured.Pop3Port ?? 0,
            configured.SmtpPort ?? 0);
        foreach (var (domain, backend) in options.AuthHttp.Backends)
        {
            AddressNormalizer.TryNormalizeDomain(domain, out var normalized, out _);
            _byDomain[normalized] = new Backend(
                IPAddress.Parse(backend.Address),
                backend.ImapPort ?? _default.Imap,
                backend.Pop3Port ?? _default.Pop3,
                backend.SmtpPort ?? _default.Smtp);
        }
    }

    /// <summary>The backend for <paramref name="domain"/> (normalised), or the default when it has none or is null.</summary>
    public MailBackendEndpoint For(string? domain, MailProxyProtocol protocol)
    {
        var backend = domain is not null && _byDomain.TryGetValue(domain, out var own) ? own : _default;
        return new MailBackendEndpoint(backend.Address, protocol switch
        {
            MailProxyProtocol.Imap => backend.Imap,
            MailProxyProtocol.Pop3 => backend.Pop3,
            _ => backend.Smtp,
        });
    }
}
