using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailAuth.Core.Observability;
using MailAuth.Server.Hosting;
using MailAuth.Server.Tls;
using MailAuth.Server.Tls.Acme;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Tests.Tls;

/// <summary>
/// RFC 8555 against Debian's pebble, a real ACME test CA, on loopback: its validation authority
/// fetches the HTTP-01 key authorization from a Kestrel app mapping
/// <see cref="AcmeChallengeEndpoints.MapAcmeHttpChallenges"/> (no "always valid" shortcut). The
/// certificate obtained is then served on IMAPS by a running <c>mailauth serve</c> through its
/// reload of changed certificate files, and a client trusting only pebble's root accepts it.
/// </summary>
[TestFixture]
[Category("External")]
public sealed class PebbleAcmeTests
{
    private string _directory = "";
    private Process? _pebble;
    private readonly StringBuilder _pebbleLog = new();
    private WebApplication? _web;

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mailauth-acme-").FullName;

    [TearDown]
    public async Task StopAll()
    {
        if (_web is not null)
        {
            await _web.DisposeAsync();
        }
        if (_pebble is { HasExited: false })
        {
            _pebble.Kill();
            await _pebble.WaitForExitAsync();
        }
        _pebble?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A CA and, signed by it, pebble's own HTTPS certificate for localhost: what MailAuth:Tls:Acme:TrustedCaFile is for.</summary>
    private (string CaFile, string CertificateFile, string KeyFile) PebbleHttpsCertificate()
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

    private async Task<(string DirectoryUrl, int ManagementPort, string CaFile)> StartPebbleAsync(int challengePort)
    {
        var (caFile, certificateFile, keyFile) = PebbleHttpsCertificate();
        var acmePort = RunningServer.FreePort();
        var managementPort = RunningServer.FreePort();
        var config = Path.Combine(_directory, "pebble-config.json");
        File.WriteAllText(config, $$"""
            {
              "pebble": {
                "listenAddress": "127.0.0.1:{{acmePort}}",
                "managementListenAddress": "127.0.0.1:{{managementPort}}",
                "certificate": "{{certificateFile}}",
                "privateKey": "{{keyFile}}",
                "httpPort": {{challengePort}},
                "tlsPort": {{RunningServer.FreePort()}},
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
              }
            }
            """);
        var start = new ProcessStartInfo("pebble", ["-config", config, "-strict"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Validation at once instead of after a random 0-15 s sleep, and never an authorization reused
        // from an earlier order: every run proves HTTP-01. pebble still refuses 5% of good nonces (badNonce).
        start.Environment["PEBBLE_VA_NOSLEEP"] = "1";
        start.Environment["PEBBLE_AUTHZREUSE"] = "0";
        _pebble = Process.Start(start)!;
        _pebble.OutputDataReceived += (_, e) => Append(e.Data);
        _pebble.ErrorDataReceived += (_, e) => Append(e.Data);
        _pebble.BeginOutputReadLine();
        _pebble.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, acmePort);
                break;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline && !_pebble.HasExited)
            {
                await Task.Delay(100);
            }
        }
        return ($"https://127.0.0.1:{acmePort}/dir", managementPort, caFile);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_pebbleLog)
            {
                _pebbleLog.AppendLine(line);
            }
        }
    }

    private async Task<(int Port, AcmeHttpChallenges Challenges)> StartChallengeListenerAsync()
    {
        var challenges = new AcmeHttpChallenges();
        var port = RunningServer.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        _web = builder.Build();
        _web.MapAcmeHttpChallenges(challenges);
        await _web.StartAsync();
        return (port, challenges);
    }

    /// <summary>pebble's issuing root for this run, from its management interface.</summary>
    private static async Task<X509Certificate2> PebbleRootAsync(int managementPort, string caFile)
    {
        using var http = AcmeHttp.Create(caFile);
        var pem = await http.GetStringAsync($"https://127.0.0.1:{managementPort}/roots/0");
        return X509Certificate2.CreateFromPem(pem);
    }

    [Test]
    public async Task ACertificateFromPebbleIsObtainedAndServedOnImapsAfterAReload()
    {
        var (challengePort, challenges) = await StartChallengeListenerAsync();
        var (directoryUrl, managementPort, caFile) = await StartPebbleAsync(challengePort);
        var dataDirectory = Directory.CreateDirectory(Path.Combine(_directory, "data")).FullName;
        var options = new MailAuthOptions { DataDirectory = dataDirectory };
        options.Tls.Acme.Enabled = true;
        options.Tls.Acme.DirectoryUrl = directoryUrl;
        options.Tls.Acme.Email = "postmaster@family.example";
        options.Tls.Acme.HostNames = ["localhost"];
        options.Tls.Acme.TrustedCaFile = caFile;
        Assert.That(options.Tls.Validate(), Is.Empty);

        var log = new ListLogger();
        var certificates = new CertificateProvider(options, TimeProvider.System, log.For<CertificateProvider>());
        Assert.That(certificates.Current.Source, Is.EqualTo(CertificateProvider.SourceSelfSigned), "until ACME obtained one");
        using var metrics = new MailAuthMetrics();
        using (var acme = new AcmeRenewalService(options, certificates, challenges, metrics, TimeProvider.System, log.For<AcmeRenewalService>()))
        {
            await acme.StartAsync(CancellationToken.None);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (certificates.Current.Source != CertificateProvider.SourceAcme && !log.Text.Contains("could not obtain", StringComparison.Ordinal)
                   && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            await acme.StopAsync(CancellationToken.None);
        }
        Assert.That(certificates.Current.Source, Is.EqualTo(CertificateProvider.SourceAcme), log.Text + "\npebble:\n" + _pebbleLog);
        Assert.That(log.Text, Does.Contain("acme: obtained a certificate for localhost"));
        Assert.That(challenges.TryGet("any", out _), Is.False);
        foreach (var file in new[] { AcmeFiles.AccountKeyFile, AcmeFiles.CertificateFile, AcmeFiles.KeyFile })
        {
            Assert.That(File.GetUnixFileMode(Path.Combine(dataDirectory, file)), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), file);
        }
        Assert.That(_pebbleLog.ToString(), Does.Contain($"Attempting to validate w/ HTTP: http://localhost:{challengePort}/.well-known/acme-challenge/")
            .And.Contains("set VALID by completed challenge"), "pebble's VA fetched the key authorization");

        // The real server, started on another certificate, takes the ACME one when its files change.
        var live = Directory.CreateDirectory(Path.Combine(_directory, "live")).FullName;
        var (placeholder, placeholderKey) = Observability.TestCertificates.Write(live, "placeholder.family.example",
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Tls__CertificateFile"] = placeholder,
            ["MailAuth__Tls__KeyFile"] = placeholderKey,
        });
        File.Copy(Path.Combine(dataDirectory, AcmeFiles.KeyFile), placeholderKey + ".new");
        File.Move(placeholderKey + ".new", placeholderKey, overwrite: true);
        File.Copy(Path.Combine(dataDirectory, AcmeFiles.CertificateFile), placeholder + ".new");
        File.Move(placeholder + ".new", placeholder, overwrite: true);
        Assert.That(await server.LoggedAsync("now serving the configured certificate CN=localhost"), Is.True, server.Log);

        using var root = await PebbleRootAsync(managementPort, caFile);
        await using var imaps = await TlsImapConnection.OpenAsync(server.ImapsPort, "localhost", TrustingOnly(root));
        Assert.That(imaps.Greeting, Does.StartWith("* OK"));
        Assert.That(imaps.ServedCertificate.Thumbprint, Is.EqualTo(certificates.Certificate.Thumbprint));
    }

    [Test]
    public async Task ServeObtainsItsCertificateThroughItsOwnWebListenerAndServesItOnImaps()
    {
        var webHttpPort = RunningServer.FreePort();
        var (directoryUrl, managementPort, caFile) = await StartPebbleAsync(webHttpPort);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Web__Port"] = RunningServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Web__HttpPort"] = webHttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Tls__Acme__Enabled"] = "true",
            ["MailAuth__Tls__Acme__DirectoryUrl"] = directoryUrl,
            ["MailAuth__Tls__Acme__HostNames__0"] = "localhost",
            ["MailAuth__Tls__Acme__TrustedCaFile"] = caFile,
        });
        Assert.That(await server.LoggedAsync("acme: obtained a certificate for localhost"), Is.True, server.Log + "\npebble:\n" + _pebbleLog);
        Assert.That(_pebbleLog.ToString(), Does.Contain($"Attempting to validate w/ HTTP: http://localhost:{webHttpPort}/.well-known/acme-challenge/")
            .And.Contains("set VALID by completed challenge"), "pebble's VA fetched the key authorization from the web listener");

        using var root = await PebbleRootAsync(managementPort, caFile);
        await using var imaps = await TlsImapConnection.OpenAsync(server.ImapsPort, "localhost", TrustingOnly(root));
        Assert.That(imaps.Greeting, Does.StartWith("* OK"));
    }

    /// <summary>Trusts pebble's root alone: the intermediate must come from the server (the chain file), the name must be localhost.</summary>
    private static Func<X509Certificate2, X509Chain?, System.Net.Security.SslPolicyErrors, bool> TrustingOnly(X509Certificate2 root) => (certificate, chain, _) =>
    {
        using var verify = new X509Chain();
        verify.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        verify.ChainPolicy.CustomTrustStore.Add(root);
        verify.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                verify.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        return verify.Build(certificate) && certificate.MatchesHostname("localhost");
    };

    /// <summary>Collects log lines, to assert on them and to show them when a step fails.</summary>
    private sealed class ListLogger
    {
        private readonly StringBuilder _text = new();

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public ILogger<T> For<T>() => new Logger<T>(this);

        private sealed class Logger<T>(ListLogger owner) : ILogger<T>
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._text)
                {
                    owner._text.Append(logLevel.ToString()).Append(": ").AppendLine(formatter(state, exception));
                }
            }
        }
    }
}
