using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace MailAuth.Server.Tls.Acme;

/// <summary>The HTTPS client that talks to the CA.</summary>
internal static class AcmeHttp
{
    /// <summary>
    /// Trusts the system's roots, and with <paramref name="trustedCaFile"/> also the roots in that
    /// PEM file (a private ACME CA's). Answers are buffered up to 1 MiB: a chain is a few KiB.
    /// </summary>
    public static HttpClient Create(string trustedCaFile)
    {
#pragma warning disable CA2000 // owned and disposed by the HttpClient returned
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
#pragma warning restore CA2000
        if (trustedCaFile.Length > 0)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(trustedCaFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Trusted(roots, certificate, chain, errors);
        }
        var http = new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(60),
            MaxResponseContentBufferSize = 1 << 20,
        };
        // RFC 8555 §6.1: clients must send a User-Agent.
        http.DefaultRequestHeaders.UserAgent.ParseAdd("MailAuth-ACME/1");
        return http;
    }

    private static bool Trusted(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        // Only the path to a root may fail the system's check: the name must still be the CA's.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }
}
