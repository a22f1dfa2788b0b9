using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailAuth.Server.Hosting;
using MailAuth.Server.Tls.Acme;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Tls;

/// <summary>The certificate served now, with the intermediates sent along with it and where it came from.</summary>
internal sealed record ServedCertificate(X509Certificate2 Certificate, SslStreamCertificateContext Context, string Source);

/// <summary>
/// The server certificate every TLS listener serves: the one ACME obtained (when enabled), else
/// the configured PEM pair, else a self-signed one generated into the data directory (and again
/// when it is about to expire). <see cref="Reload"/> swaps it atomically: a handshake that starts
/// afterwards gets the new one, a connection already open keeps the one it began with.
/// </summary>
internal sealed partial class CertificateProvider(MailAuthOptions options, TimeProvider clock, ILogger<CertificateProvider> logger)
{
    public const string GeneratedCertificateFile = "tls/certificate.pem";
    public const string GeneratedKeyFile = "tls/key.pem";

    public const string SourceConfigured = "configured";
    public const string SourceSelfSigned = "self-signed";
    public const string SourceAcme = "ACME";

    // Apple's clients refuse server certificates valid for more than 825 days.
    private static readonly TimeSpan GeneratedLifetime = TimeSpan.FromDays(825);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private readonly Lock _reloadGate = new();
    private ServedCertificate? _current;

    /// <summary>
    /// What a handshake serves now. Kestrel and any other TLS listener ask for it per handshake
    /// (e.g. <c>ServerCertificateSelector = (_, _) => provider.Certificate</c>), never keep it.
    /// </summary>
    public ServedCertificate Current
    {
        get
        {
            var current = Volatile.Read(ref _current);
            if (current is not null)
            {
                return current;
            }
            lock (_reloadGate)
            {
                _current ??= Load(initial: true);
                return _current;
            }
        }
    }

    /// <summary>The leaf certificate served now (<see cref="Current"/>).</summary>
    public X509Certificate2 Certificate => Current.Certificate;

    /// <summary>
    /// Reads the certificate's source again (after SIGHUP, a change of its files, or a new ACME
    /// certificate) and serves the result from the next handshake on. Files that cannot be read,
    /// do not match their key or have expired leave the certificate in use, with a log line.
    /// Returns whether the certificate served changed.
    /// </summary>
    public bool Reload(string reason)
    {
        lock (_reloadGate)
        {
            var before = _current ?? Load(initial: true);
            ServedCertificate loaded;
            try
            {
                loaded = Load(initial: false);
            }
            catch (Exception e) when (e is ConfigurationException or IOException or UnauthorizedAccessException
                                          or CryptographicException or ArgumentException)
            {
                LogKept(before.Source, before.Certificate.GetCertHashString(HashAlgorithmName.SHA256), reason, e.Message);
                _current = before;
                return false;
            }
            if (loaded.Certificate.RawDataMemory.Span.SequenceEqual(before.Certificate.RawDataMemory.Span))
            {
                LogUnchanged(reason, before.Source);
                _current = before;
                return false;
            }
            // The certificate replaced is not disposed: handshakes under way and open sessions may still hold it.
            Volatile.Write(ref _current, loaded);
            LogReloaded(reason, loaded.Source, loaded.Certificate.Subject, loaded.Certificate.NotAfter,
                loaded.Certificate.GetCertHashString(HashAlgorithmName.SHA256));
            return true;
        }
    }

    private ServedCertificate Load(bool initial)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (options.Tls.Acme.Enabled && TryLoadAcme(now, initial) is { } acme)
        {
            return acme;
        }
        if (!string.IsNullOrEmpty(options.Tls.CertificateFile))
        {
            var configured = LoadConfigured(options.Tls.CertificateFile, options.Tls.KeyFile);
            if (!initial && configured.Certificate.NotAfter.ToUniversalTime() <= now)
            {
                // A renewal that wrote an old copy back: the certificate in use may still be valid.
                throw new ConfigurationException(
                    $"MailAuth:Tls:CertificateFile {options.Tls.CertificateFile} expired at {configured.Certificate.NotAfter.ToUniversalTime():u}");
            }
            if (initial)
            {
                LogCertificate(SourceConfigured, configured.Certificate.Subject, configured.Certificate.NotAfter, configured.Certificate.Thumbprint);
            }
            if (configured.Certificate.NotAfter.ToUniversalTime() - now < RenewBefore)
            {
                // Clients refuse an expired certificate; say so loudly while there is time to renew it.
                LogExpiring(options.Tls.CertificateFile, configured.Certificate.NotAfter);
            }
            return configured;
        }
        var selfSigned = LoadSelfSigned(now);
        if (initial && !options.Tls.Acme.Enabled)
        {
            LogSelfSignedAdvice(selfSigned.Certificate.GetCertHashString(HashAlgorithmName.SHA256));
        }
        return selfSigned;
    }

    /// <summary>The certificate ACME obtained, while it is valid; null until the first one was obtained.</summary>
    private ServedCertificate? TryLoadAcme(DateTime now, bool initial)
    {
        var certificateFile = Path.Combine(options.DataDirectory, AcmeFiles.CertificateFile);
        var keyFile = Path.Combine(options.DataDirectory, AcmeFiles.KeyFile);
        if (!File.Exists(certificateFile) || !File.Exists(keyFile))
        {
            return null;
        }
        ServedCertificate acme;
        try
        {
            acme = LoadPair(certificateFile, keyFile, SourceAcme);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            LogAcmeUnusable(certificateFile, e.Message);
            return null;
        }
        if (acme.Certificate.NotAfter.ToUniversalTime() <= now)
        {
            LogAcmeUnusable(certificateFile, $"it expired at {acme.Certificate.NotAfter.ToUniversalTime():u}");
            return null;
        }
        if (initial)
        {
            LogCertificate(SourceAcme, acme.Certificate.Subject, acme.Certificate.NotAfter, acme.Certificate.Thumbprint);
        }
        return acme;
    }

    private ServedCertificate LoadSelfSigned(DateTimeOffset now)
    {
        var certificateFile = Path.Combine(options.DataDirectory, GeneratedCertificateFile);
        var keyFile = Path.Combine(options.DataDirectory, GeneratedKeyFile);
        if (File.Exists(certificateFile) && File.Exists(keyFile))
        {
            var existing = LoadPair(certificateFile, keyFile, SourceSelfSigned);
            if (existing.Certificate.NotAfter.ToUniversalTime() - now.UtcDateTime > RenewBefore)
            {
                LogCertificate(SourceSelfSigned, existing.Certificate.Subject, existing.Certificate.NotAfter, existing.Certificate.Thumbprint);
                return existing;
            }
        }

        var generated = Generate(now);
        Directory.CreateDirectory(Path.GetDirectoryName(certificateFile)!, PrivateFiles.Directory);
        PrivateFiles.Write(keyFile, generated.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        PrivateFiles.Write(certificateFile, generated.ExportCertificatePem());
        LogCertificate("generated self-signed", generated.Subject, generated.NotAfter, generated.Thumbprint);
        return Serve(generated, [], SourceSelfSigned);
    }

    /// <summary>A configured pair that cannot be used is a configuration error (exit 2), named by its keys.</summary>
    internal static ServedCertificate LoadConfigured(string certificateFile, string keyFile)
    {
        try
        {
            return LoadPair(certificateFile, keyFile, SourceConfigured);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ConfigurationException(
                $"MailAuth:Tls:CertificateFile {certificateFile} and MailAuth:Tls:KeyFile {keyFile} are not a usable PEM pair: {e.Message}");
        }
    }

    /// <summary>
    /// The first certificate of the file with its key, and the others after it (certbot's
    /// fullchain.pem, an ACME chain) as the intermediates every handshake sends: a client that
    /// gets the leaf alone cannot build the path to its trusted root.
    /// </summary>
    private static ServedCertificate LoadPair(string certificateFile, string keyFile, string source)
    {
#pragma warning disable CA2000 // served from now on (never disposed, see Reload); disposed below when it cannot be
        var leaf = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
#pragma warning restore CA2000
        try
        {
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(certificateFile);
            all[0].Dispose(); // the leaf again, without its key
            return Serve(leaf, [.. all.Skip(1)], source);
        }
        catch
        {
            leaf.Dispose();
            throw;
        }
    }

    private static ServedCertificate Serve(X509Certificate2 certificate, X509Certificate2[] intermediates, string source)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new CryptographicException("the certificate has no private key");
        }
        // Built once per certificate: the chain and key handle are shared by every handshake.
        var context = SslStreamCertificateContext.Create(certificate, [.. intermediates], offline: true);
        return new ServedCertificate(certificate, context, source);
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

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "tls: the configured certificate {File} expires (or expired) at {NotAfter:u}: renew it")]
    private partial void LogExpiring(string file, DateTime notAfter);

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "tls: {Kind} certificate {Subject}, valid until {NotAfter:u}, SHA-1 {Thumbprint}")]
    private partial void LogCertificate(string kind, string subject, DateTime notAfter, string thumbprint);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message =
        "tls: the certificate is self-signed: mail clients will show a security warning or refuse to connect (Thunderbird's account "
        + "wizard says it cannot find the server; Outlook and Apple Mail refuse it). Turn on ACME (MailAuth:Tls:Acme:Enabled) or set "
        + "MailAuth:Tls:CertificateFile and KeyFile to a certificate from a public CA; or accept it in each client after comparing "
        + "its SHA-256 fingerprint {Fingerprint}")]
    private partial void LogSelfSignedAdvice(string fingerprint);

    [LoggerMessage(EventId = 33, Level = LogLevel.Information, Message =
        "tls: now serving the {Source} certificate {Subject}, valid until {NotAfter:u}, SHA-256 {Fingerprint} ({Reason}); open connections keep theirs")]
    private partial void LogReloaded(string reason, string source, string subject, DateTime notAfter, string fingerprint);

    [LoggerMessage(EventId = 34, Level = LogLevel.Information, Message = "tls: certificate unchanged after {Reason} (still the {Source} one)")]
    private partial void LogUnchanged(string reason, string source);

    [LoggerMessage(EventId = 35, Level = LogLevel.Warning, Message = "tls: kept the {Source} certificate SHA-256 {Fingerprint} after {Reason}: {Problem}")]
    private partial void LogKept(string source, string fingerprint, string reason, string problem);

    [LoggerMessage(EventId = 36, Level = LogLevel.Warning, Message = "tls: the ACME certificate {File} is not used: {Problem}")]
    private partial void LogAcmeUnusable(string file, string problem);
}
