using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using MailAuth.Server.Hosting;
using MailAuth.Server.Tls;

namespace MailAuth.Server.Web;

/// <summary>
/// Signs a profile (CMS SignedData, the content inside) with the configured server certificate, as
/// Apple's devices expect: with a certificate a public CA issued, the profile shows as "Verified".
/// The generated self-signed certificate is not used, since it verifies nothing; such a profile is
/// served unsigned (devices accept it with a warning).
/// </summary>
internal sealed class ProfileSigner(MailAuthOptions options, CertificateProvider certificates)
{
    public bool Signs => !string.IsNullOrEmpty(options.Tls.CertificateFile);

    public byte[] Sign(byte[] profile)
    {
        if (!Signs)
        {
            return profile;
        }
        // Taken from the provider at each signing: a renewed certificate is used as soon as it is loaded.
        var certificate = certificates.Certificate;
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificate)
        {
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        // The intermediates that follow the server certificate in its PEM file, so that a device can
        // build the chain to a root it trusts.
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(options.Tls.CertificateFile);
        foreach (var intermediate in chain)
        {
            if (intermediate.Thumbprint != certificate.Thumbprint)
            {
                signer.Certificates.Add(intermediate);
            }
        }
        var signed = new SignedCms(new ContentInfo(profile), detached: false);
        signed.ComputeSignature(signer, silent: true);
        return signed.Encode();
    }
}
