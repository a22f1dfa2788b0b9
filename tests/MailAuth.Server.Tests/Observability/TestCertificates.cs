using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailAuth.Server.Tests.Observability;

/// <summary>PEM certificate and key files with chosen dates and names, for readiness and <c>config check</c>.</summary>
internal static class TestCertificates
{
    public static (string Certificate, string Key) Write(string directory, string name, DateTimeOffset notBefore, DateTimeOffset notAfter, params string[] dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var dnsName in dnsNames.Length == 0 ? [name] : dnsNames)
        {
            names.AddDnsName(dnsName);
        }
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(notBefore, notAfter);
        var certificateFile = Path.Combine(directory, name + ".crt.pem");
        var keyFile = Path.Combine(directory, name + ".key.pem");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile);
    }
}
