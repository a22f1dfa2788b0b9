using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailAuth.Server.Tls.Acme;

namespace MailAuth.Server.Tests.Tls;

/// <summary>
/// Debian's pebble (an RFC 8555 test CA) on loopback, with pebble-challtestsrv as its DNS server:
/// every name resolves to 127.0.0.1 unless <see cref="FailDnsAsync"/> makes its lookups SERVFAIL,
/// which fails that name's authorization for real. Certificates live <see cref="ValidityPeriod"/>,
/// so a renewal two thirds into the lifetime comes within a test. Started once per fixture; the
/// validation ports (<see cref="HttpPort"/>, <see cref="TlsPort"/>) are the ones the tests' web
/// listeners must use.
/// </summary>
internal sealed class PebbleCa : IAsyncDisposable
{
    public static readonly TimeSpan ValidityPeriod = TimeSpan.FromSeconds(18);

    private readonly string _directory;
    private readonly StringBuilder _log = new();
    private readonly List<Process> _processes = [];
    private readonly HttpClient _management = new() { Timeout = TimeSpan.FromSeconds(10) };
    private int _dnsManagementPort;

    private PebbleCa(string directory) => _directory = directory;

    public string DirectoryUrl { get; private set; } = "";

    /// <summary>PEM root of pebble's own HTTPS certificate: what MailAuth:Tls:Acme:TrustedCaFile is for.</summary>
    public string CaFile { get; private set; } = "";

    public int ManagementPort { get; private set; }

    /// <summary>The port pebble's validation authority fetches HTTP-01 key authorizations from.</summary>
    public int HttpPort { get; private set; }

    /// <summary>The port pebble's validation authority does TLS-ALPN-01 handshakes with.</summary>
    public int TlsPort { get; private set; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<PebbleCa> StartAsync()
    {
        var ca = new PebbleCa(Directory.CreateTempSubdirectory("mailauth-pebble-").FullName);
        try
        {
            await ca.StartProcessesAsync();
            return ca;
        }
        catch
        {
            await ca.DisposeAsync();
            throw;
        }
    }

    /// <summary>Lookups of <paramref name="host"/> answer SERVFAIL: its authorization fails with a DNS problem.</summary>
    public async Task FailDnsAsync(string host)
    {
        using var content = new StringContent($$"""{"host":"{{host}}"}""");
        using var response = await _management.PostAsync(new Uri($"http://127.0.0.1:{_dnsManagementPort}/set-servfail"), content);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>pebble's issuing root for this run, from its management interface.</summary>
    public async Task<X509Certificate2> RootAsync()
    {
        using var http = AcmeHttp.Create(CaFile);
        var pem = await http.GetStringAsync(new Uri($"https://127.0.0.1:{ManagementPort}/roots/0"));
        return X509Certificate2.CreateFromPem(pem);
    }

    private async Task StartProcessesAsync()
    {
        var (caFile, certificateFile, keyFile) = HttpsCertificate();
        CaFile = caFile;
        var dnsPort = RunningServer.FreePort();
        _dnsManagementPort = RunningServer.FreePort();
        Start("pebble-challtestsrv", [
            "-dns01", $"127.0.0.1:{dnsPort}", "-management", $"127.0.0.1:{_dnsManagementPort}",
            "-http01", "", "-https01", "", "-tlsalpn01", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
        ], []);
        var acmePort = RunningServer.FreePort();
        ManagementPort = RunningServer.FreePort();
        HttpPort = RunningServer.FreePort();
        TlsPort = RunningServer.FreePort();
        var config = Path.Combine(_directory, "pebble-config.json");
        File.WriteAllText(config, $$"""
            {
              "pebble": {
                "listenAddress": "127.0.0.1:{{acmePort}}",
                "managementListenAddress": "127.0.0.1:{{ManagementPort}}",
                "certificate": "{{certificateFile}}",
                "privateKey": "{{keyFile}}",
                "httpPort": {{HttpPort}},
                "tlsPort": {{TlsPort}},
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
                "certificateValidityPeriod": {{ValidityPeriod.TotalSeconds.ToString(CultureInfo.InvariantCulture)}}
              }
            }
            """);
        // Validation at once instead of after a random 0-15 s sleep, and never an authorization reused
        // from an earlier order: every order proves its names. pebble still refuses 5% of good nonces (badNonce).
        Start("pebble", ["-config", config, "-strict", "-dnsserver", $"127.0.0.1:{dnsPort}"],
            new Dictionary<string, string> { ["PEBBLE_VA_NOSLEEP"] = "1", ["PEBBLE_AUTHZREUSE"] = "0" });
        await WaitForPortAsync(_dnsManagementPort);
        await WaitForPortAsync(acmePort);
        DirectoryUrl = $"https://127.0.0.1:{acmePort}/dir";
    }

    private void Start(string program, string[] arguments, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        _processes.Add(process);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && _processes.All(p => !p.HasExited))
            {
                await Task.Delay(100);
            }
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    /// <summary>A CA and, signed by it, pebble's own HTTPS certificate for localhost.</summary>
    private (string CaFile, string CertificateFile, string KeyFile) HttpsCertificate()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=MailAuth test ACME HTTPS CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leaf = request.Create(ca, now.AddDays(-1), now.AddDays(29), [1, 2, 3, 4, 5, 6, 7, 8]);
        var files = (Path.Combine(_directory, "https-ca.pem"), Path.Combine(_directory, "https.pem"), Path.Combine(_directory, "https-key.pem"));
        File.WriteAllText(files.Item1, ca.ExportCertificatePem());
        File.WriteAllText(files.Item2, leaf.ExportCertificatePem());
        File.WriteAllText(files.Item3, key.ExportPkcs8PrivateKeyPem());
        return files;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
            process.Dispose();
        }
        _management.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
