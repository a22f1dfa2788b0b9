using System.Net;
using System.Net.Security;
using MailAuth.Server.Hosting;
using MailAuth.Server.Tls;

namespace MailAuth.Server.Protocol;

/// <summary>The server side of every TLS handshake, and where plaintext authentication is allowed.</summary>
internal sealed class TlsContext(CertificateProvider certificates, MailAuthOptions options)
{
    private readonly Lazy<SslServerAuthenticationOptions> _serverOptions = new(() => new SslServerAuthenticationOptions
    {
        // Built once: the certificate chain and key handle are shared by every handshake.
        ServerCertificateContext = SslStreamCertificateContext.Create(certificates.Certificate, additionalCertificates: null, offline: true),
        ClientCertificateRequired = false,
        // TLS 1.2 and 1.3 as the system's OpenSSL allows; resumption makes reconnects cheap.
        AllowTlsResume = true,
    });

    private readonly IPNetwork[] _plaintextNetworks = [.. options.Tls.EffectivePlaintextAuthNetworks.Select(IPNetwork.Parse)];

    public SslServerAuthenticationOptions ServerOptions => _serverOptions.Value;

    /// <summary>LOGIN / AUTH PLAIN may be used: on TLS, or from a network configured as trusted.</summary>
    public bool AllowsPlaintextAuthentication(ProtocolConnection connection) =>
        connection.IsSecure || _plaintextNetworks.Any(network => network.Contains(connection.RemoteAddress));
}
