using System.Net;
using System.Net.Security;
using MailAuth.Server.Hosting;
using MailAuth.Server.Tls;

namespace MailAuth.Server.Protocol;

/// <summary>The server side of every TLS handshake, and where plaintext authentication is allowed.</summary>
internal sealed class TlsContext(CertificateProvider certificates, MailAuthOptions options)
{
    private sealed record Built(ServedCertificate Certificate, SslServerAuthenticationOptions Options);

    private readonly IPNetwork[] _plaintextNetworks = [.. options.Tls.EffectivePlaintextAuthNetworks.Select(IPNetwork.Parse)];

    private Built? _built;

    /// <summary>
    /// The options for a handshake starting now: built once per certificate and shared by every
    /// handshake until <see cref="CertificateProvider.Reload"/> serves another one.
    /// </summary>
    public SslServerAuthenticationOptions ServerOptions
    {
        get
        {
            var current = certificates.Current;
            var built = Volatile.Read(ref _built);
            if (built is null || !ReferenceEquals(built.Certificate, current))
            {
                built = new Built(current, new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = current.Context,
                    ClientCertificateRequired = false,
                    // TLS 1.2 and 1.3 as the system's OpenSSL allows; resumption makes reconnects cheap.
                    AllowTlsResume = true,
                });
                Volatile.Write(ref _built, built);
            }
            return built.Options;
        }
    }

    /// <summary>LOGIN / AUTH PLAIN may be used: on TLS, or from a network configured as trusted.</summary>
    public bool AllowsPlaintextAuthentication(ProtocolConnection connection) =>
        connection.IsSecure || _plaintextNetworks.Any(network => network.Contains(connection.RemoteAddress));
}
