using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailAuth.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Tls;

/// <summary>
/// The server certificate: the configured PEM pair, or else a self-signed one generated once into
/// the data directory (and again when it is about to expire).
/// </summary>
internal sealed partial class CertificateProvider(MailAuthOptions options, TimeProvider clock, ILogger<CertificateProvider> logger)
{
    public const string GeneratedCertificateFile = "tls/certificate.pem";
    public const string GeneratedKeyFile = "tls/key.pem";

    // Apple's clients refuse server certificates valid for more than 825 days.
    private static readonly TimeSpan GeneratedLifetime = TimeSpan.FromDays(825);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private readonly Lazy<X509Certificate2> _certificate = new(() => Load(options, clock, logger));

    public X509Certificate2 Certificate => _certificate.Value;

    private static X509Certificate2 Load(MailAuthOptions options, TimeProvider clock, ILogger logger)
    {
        if (!string.IsNullOrEmpty(options.Tls.CertificateFile))
        {
            var configured = LoadConfigured(options.Tls.CertificateFile, options.Tls.KeyFile);
            LogCertificate(logger, "configured", configured.Subject, configured.NotAfter, configured.Thumbprint);
            if (configured.NotAfter.ToUniversalTime() - clock.GetUtcNow().UtcDateTime < RenewBefore)
            {
                // Clients refuse an expired certificate; say so loudly while there is time to renew it.
                LogExpiring(logger, options.Tls.CertificateFile, configured.NotAfter);
            }
            return configured;
        }

        var certificateFile = Path.Combine(options.DataDirectory, GeneratedCertificateFile);
        var keyFile = Path.Combine(options.DataDirectory, GeneratedKeyFile);
        if (File.Exists(certificateFile) && File.Exists(keyFile))
        {
            var existing = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            if (existing.NotAfter.ToUniversalTime() - clock.GetUtcNow().UtcDateTime > RenewBefore)
            {
                LogCertificate(logger, "self-signed", existing.Subject, existing.NotAfter, existing.Thumbprint);
                return existing;
            }
            existing.Dispose();
        }

        var generated = Generate(clock.GetUtcNow());
        Directory.CreateDirectory(Path.GetDirectoryName(certificateFile)!, PrivateFiles.Directory);
        WritePrivate(keyFile, generated.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        WritePrivate(certificateFile, generated.ExportCertificatePem());
        LogCertificate(logger, "generated self-signed", generated.Subject, generated.NotAfter, generated.Thumbprint);
        return generated;
    }

    /// <summary>A configured pair that cannot be used is a configuration error (exit 2), named by its keys.</summary>
    internal static X509Certificate2 LoadConfigured(string certificateFile, string keyFile)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ConfigurationException(
                $"MailAuth:Tls:CertificateFile {certificateFile} and MailAuth:Tls:KeyFile {keyFile} are not a usable PEM pair: {e.Message}");
        }
    }

    /// <summary>ECDSA P-256: the cheapest handshake for the server, understood by every current client.</summary>
    internal static X509Certificate2 Generate(DateTimeOffset now)
    {
        var hostName = Dns.GetHostName();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostName}, O=MailAuth self-signed", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Some clients check IP names and some only DNS names: name the host, localhost, 127.0.0.1 and ::1.
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostName);
        if (!string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            names.AddDnsName("localhost");
        }
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(now.AddDays(-1), now.Add(GeneratedLifetime));
    }

    /// <summary>Writes a file readable by its owner only, from the first byte on, even over an older copy.</summary>
    private static void WritePrivate(string path, string content)
    {
        const UnixFileMode Mode = PrivateFiles.File;
        using (var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = Mode,
        }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }
        File.SetUnixFileMode(path, Mode);
    }

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "tls: the configured certificate {File} expires (or expired) at {NotAfter:u}: renew it")]
    private static partial void LogExpiring(ILogger logger, string file, DateTime notAfter);

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "tls: {Kind} certificate {Subject}, valid until {NotAfter:u}, SHA-1 {Thumbprint}")]
    private static partial void LogCertificate(ILogger logger, string kind, string subject, DateTime notAfter, string thumbprint);
}
