using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using MailAuth.Core.Storage;
using MailAuth.Server.Protocol;
using MailAuth.Server.Tls;

namespace MailAuth.Server.Hosting;

/// <summary>How a finding weighs: <c>config check</c> reports every one; <c>serve</c> refuses to start on the first two.</summary>
internal enum CheckSeverity
{
    /// <summary>A setting or a file it names is unusable: exit 2.</summary>
    Configuration,

    /// <summary>The machine does not allow it (a port taken, a directory of another user, the store): <c>cannot start</c>, exit 1.</summary>
    Environment,

    /// <summary>Works now but needs the operator (a certificate near its end, loose permissions that <c>serve</c> tightens).</summary>
    Warning,

    /// <summary>Works and stays working, but every user will meet it (a self-signed certificate): printed, exit 0.</summary>
    Notice,
}

internal sealed record CheckFinding(CheckSeverity Severity, string Text);

/// <summary>
/// <c>mailauth config check</c>, and what <c>serve</c> runs before it starts: the files the settings
/// name (certificate dates and names, key match), the data directory's owner and permissions, the
/// store, and the ports. The settings themselves were validated when they were bound.
/// </summary>
internal static partial class ConfigurationCheck
{
    /// <summary>The margin of <c>/readyz</c>: a certificate that ends sooner is reported.</summary>
    private static readonly TimeSpan CertificateMargin = Observability.Readiness.CertificateMargin;

    /// <param name="serveHoldsLock">
    /// True in <c>serve</c>, which holds the data directory's lock; otherwise, when another process
    /// holds it, a server runs there and its ports and store are in use by it, not taken.
    /// </param>
    public static async Task<IReadOnlyList<CheckFinding>> RunAsync(
        MailAuthOptions options, TimeProvider clock, bool serveHoldsLock, CancellationToken cancellationToken)
    {
        var findings = new List<CheckFinding>();
        CheckCertificate(options, clock.GetUtcNow().UtcDateTime, findings);
        var serverRunning = !serveHoldsLock && ServerRunsOn(options.DataDirectory);
        CheckDataDirectory(options.DataDirectory, findings);
        await CheckStoreAsync(options, findings, cancellationToken);
        // serve binds its ports a moment later and reports a taken one itself; binding each twice would
        // only widen the window in which another process can take it between the two.
        if (!serverRunning && !serveHoldsLock)
        {
            CheckPorts(options, findings);
        }
        return findings;
    }

    private static void CheckCertificate(MailAuthOptions options, DateTime now, List<CheckFinding> findings)
    {
        var tls = options.Tls;
        if (string.IsNullOrEmpty(tls.CertificateFile))
        {
            if (!tls.Acme.Enabled)
            {
                // Generated and renewed by serve, but no client trusts it (README "TLS certificates").
                findings.Add(new(CheckSeverity.Notice,
                    "no certificate is configured: serve generates a self-signed one, which mail clients refuse or warn about "
                    + "(Thunderbird's account wizard cannot find the server; Outlook and Apple Mail refuse it); set "
                    + "MailAuth:Tls:Acme:Enabled, or MailAuth:Tls:CertificateFile and KeyFile"));
            }
            return;
        }
        using var certificate = TryLoad(tls, findings);
        if (certificate is not null)
        {
            var name = $"MailAuth:Tls:CertificateFile {tls.CertificateFile}";
            var notBefore = certificate.NotBefore.ToUniversalTime();
            var notAfter = certificate.NotAfter.ToUniversalTime();
            if (notBefore > now)
            {
                findings.Add(new(CheckSeverity.Warning, $"{name} is not valid before {Time(notBefore)}"));
            }
            if (notAfter <= now)
            {
                findings.Add(new(CheckSeverity.Warning, $"{name} expired at {Time(notAfter)}: renew it"));
            }
            else if (notAfter - now < CertificateMargin)
            {
                findings.Add(new(CheckSeverity.Warning, $"{name} expires at {Time(notAfter)}, within {CertificateMargin.TotalDays:0} days: renew it"));
            }
            var names = SubjectAlternativeNames(certificate);
            if (names.Count == 0)
            {
                findings.Add(new(CheckSeverity.Warning, $"{name} names no host (no subjectAltName DNS or IP entry): clients refuse it"));
            }
            else if (options.Smtp.HostName.Length > 0 && !names.Any(san => Covers(san, options.Smtp.HostName)))
            {
                findings.Add(new(CheckSeverity.Warning,
                    $"{name} does not name MailAuth:Smtp:HostName {options.Smtp.HostName} (it names {string.Join(", ", names)})"));
            }
        }
    }

    /// <summary>The configured pair, or null with the reason (the very line <c>serve</c> gives) added.</summary>
    private static X509Certificate2? TryLoad(TlsOptions tls, List<CheckFinding> findings)
    {
        try
        {
            return CertificateProvider.LoadConfigured(tls.CertificateFile, tls.KeyFile).Certificate;
        }
        catch (ConfigurationException e)
        {
            findings.Add(new(CheckSeverity.Configuration, e.Message));
            return null;
        }
    }

    private static List<string> SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.AddRange(extension.EnumerateDnsNames());
            names.AddRange(extension.EnumerateIPAddresses().Select(address => address.ToString()));
        }
        return names;
    }

    /// <summary>RFC 6125 §6.4.3: a wildcard stands for exactly one leftmost label.</summary>
    private static bool Covers(string san, string host)
    {
        if (san.StartsWith("*.", StringComparison.Ordinal))
        {
            var dot = host.IndexOf('.', StringComparison.Ordinal);
            return dot > 0 && string.Equals(san[1..], host[dot..], StringComparison.OrdinalIgnoreCase);
        }
        return string.Equals(san, host, StringComparison.OrdinalIgnoreCase);
    }

    private static bool ServerRunsOn(string dataDirectory)
    {
        if (!File.Exists(Path.Combine(dataDirectory, DataDirectoryLock.FileName)))
        {
            return false;
        }
        try
        {
            using var probe = DataDirectoryLock.Acquire(dataDirectory);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static void CheckDataDirectory(string dataDirectory, List<CheckFinding> findings)
    {
        const string Key = "MailAuth:DataDirectory";
        if (File.Exists(dataDirectory))
        {
            findings.Add(new(CheckSeverity.Environment, $"{Key} {dataDirectory} is a file, not a directory"));
            return;
        }
        if (!Directory.Exists(dataDirectory))
        {
            // serve creates it (0700); its nearest existing parent must be a directory.
            var parent = Path.GetDirectoryName(dataDirectory);
            while (parent is not null && !Path.Exists(parent))
            {
                parent = Path.GetDirectoryName(parent);
            }
            if (parent is not null && !Directory.Exists(parent))
            {
                findings.Add(new(CheckSeverity.Environment, $"{Key} {dataDirectory} cannot be created: {parent} is not a directory"));
            }
            return;
        }
        var owner = OwnerOf(dataDirectory);
        if (owner != geteuid())
        {
            findings.Add(new(CheckSeverity.Environment,
                $"{Key} {dataDirectory} belongs to uid {owner.ToString(CultureInfo.InvariantCulture)}, not to this user (uid {geteuid().ToString(CultureInfo.InvariantCulture)})"));
            return;
        }
        var mode = File.GetUnixFileMode(dataDirectory);
        if ((mode & ~PrivateFiles.Directory) != 0)
        {
            findings.Add(new(CheckSeverity.Warning,
                $"{Key} {dataDirectory} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}, not 0700 (serve tightens it at start)"));
        }
        var database = Path.Combine(dataDirectory, SqliteDatabase.FileName);
        if (File.Exists(database) && (File.GetUnixFileMode(database) & ~PrivateFiles.File) != 0)
        {
            findings.Add(new(CheckSeverity.Warning,
                $"{database} has mode {Convert.ToString((int)File.GetUnixFileMode(database), 8).PadLeft(4, '0')}, not 0600 (serve tightens it at start)"));
        }
    }

    /// <summary>An existing store must open and answer; a missing one is created by the first command.</summary>
    private static async Task CheckStoreAsync(MailAuthOptions options, List<CheckFinding> findings, CancellationToken cancellationToken)
    {
        var settings = options.Store.ToSettings();
        if (settings.Provider == StoreProvider.PostgreSql)
        {
            try
            {
                await PostgresDatabase.ProbeAsync(settings.ConnectionString, cancellationToken);
            }
            catch (Exception e) when (e is DbException or TimeoutException)
            {
                findings.Add(new(CheckSeverity.Environment, $"store (MailAuth:Store, postgresql) unreachable: {e.Message}"));
            }
            return;
        }
        var dataDirectory = options.DataDirectory;
        if (!File.Exists(Path.Combine(dataDirectory, SqliteDatabase.FileName)))
        {
            return;
        }
        try
        {
            await SqliteDatabase.ProbeInDirectoryAsync(dataDirectory, cancellationToken);
        }
        catch (Exception e) when (e is DbException or IOException or UnauthorizedAccessException)
        {
            findings.Add(new(CheckSeverity.Environment, $"store {Path.Combine(dataDirectory, SqliteDatabase.FileName)} unreachable: {e.Message}"));
        }
    }

    private static void CheckPorts(MailAuthOptions options, List<CheckFinding> findings)
    {
        var loopback = IPAddress.Loopback.ToString();
        var ports = new (int Port, string Address)[]
        {
            (options.Imap.Port, options.BindAddress),
            (options.Imap.TlsPort, options.BindAddress),
            (options.Smtp.SubmissionPort, options.BindAddress),
            (options.Smtp.SubmissionsPort, options.BindAddress),
            (options.SaslService.TcpPort, loopback),
            (options.AuthHttp.Port, loopback),
            (options.Lmtp.TcpPort, loopback),
            (options.Socketmap.TcpPort, loopback),
            (options.Metrics.Enabled ? options.Metrics.Port : 0, options.Metrics.BindAddress),
            (options.Web.Port, options.Web.BindAddress),
            (options.Web.HttpPort, options.Web.BindAddress),
        };
        foreach (var (port, address) in ports.Where(p => p.Port != 0).Distinct())
        {
            try
            {
                ListeningSocket.Open(address, port, backlog: 1).Dispose();
            }
            catch (IOException e)
            {
                findings.Add(new(CheckSeverity.Environment, e.Message));
            }
        }
    }

    private static string Time(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>The owner's uid, by statx(2), whose layout is the same on every architecture (stx_uid at byte 20).</summary>
    private static unsafe uint OwnerOf(string path)
    {
        const int AtFdCwd = -100;
        const uint StatxUid = 0x8;
        var buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, 0, StatxUid, buffer) != 0)
        {
            throw new IOException($"cannot read the owner of {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        return *(uint*)(buffer + 20);
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int directory, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint geteuid();
}
