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
using MailAuth.Server.Tests.Imap;

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
    private PebbleCa _ca = null!;
    private string _directory = "";
    private WebApplication? _web;

    [OneTimeSetUp]
    public async Task StartPebble() => _ca = await PebbleCa.StartAsync();

    [OneTimeTearDown]
    public async Task StopPebble() => await _ca.DisposeAsync();

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mailauth-acme-").FullName;

    [TearDown]
    public async Task StopAll()
    {
        if (_web is not null)
        {
            await _web.DisposeAsync();
            _web = null;
        }
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<(int Port, AcmeHttpChallenges Challenges)> StartChallengeListenerAsync()
    {
        var challenges = new AcmeHttpChallenges();
        var port = _ca.HttpPort;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        _web = builder.Build();
        _web.MapAcmeHttpChallenges(challenges);
        await _web.StartAsync();
        return (port, challenges);
    }

    [Test]
    public async Task ACertificateFromPebbleIsObtainedAndServedOnImapsAfterAReload()
    {
        var (challengePort, challenges) = await StartChallengeListenerAsync();
        var dataDirectory = Directory.CreateDirectory(Path.Combine(_directory, "data")).FullName;
        var options = new MailAuthOptions { DataDirectory = dataDirectory };
        options.Tls.Acme.Enabled = true;
        options.Tls.Acme.DirectoryUrl = _ca.DirectoryUrl;
        options.Tls.Acme.Email = "postmaster@family.example";
        options.Tls.Acme.HostNames = ["localhost"];
        options.Tls.Acme.TrustedCaFile = _ca.CaFile;
        Assert.That(options.Tls.Validate(), Is.Empty);

        var log = new ListLogger();
        var certificates = new CertificateProvider(options, TimeProvider.System, log.For<CertificateProvider>());
        Assert.That(certificates.Current.Source, Is.EqualTo(CertificateProvider.SourceSelfSigned), "until ACME obtained one");
        using var metrics = new MailAuthMetrics();
        using (var acme = new AcmeRenewalService(options, certificates, challenges, new AcmeHostNames(options, null), metrics, TimeProvider.System, log.For<AcmeRenewalService>()))
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
        Assert.That(certificates.Current.Source, Is.EqualTo(CertificateProvider.SourceAcme), log.Text + "\npebble:\n" + _ca.Log);
        Assert.That(log.Text, Does.Contain("acme: obtained a certificate for localhost"));
        Assert.That(challenges.TryGet("any", out _), Is.False);
        foreach (var file in new[] { AcmeFiles.AccountKeyFile, AcmeFiles.CertificateFile, AcmeFiles.KeyFile })
        {
            Assert.That(File.GetUnixFileMode(Path.Combine(dataDirectory, file)), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), file);
        }
        Assert.That(_ca.Log.ToString(), Does.Contain($"Attempting to validate w/ HTTP: http://localhost:{challengePort}/.well-known/acme-challenge/")
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

        using var root = await _ca.RootAsync();
        await using var imaps = await ImapTestClient.ConnectTlsAsync(server.ImapsPort, "localhost", TrustingOnly(root));
        Assert.That(imaps.Greeting, Does.StartWith("* OK"));
        Assert.That(imaps.ServedCertificate.Thumbprint, Is.EqualTo(certificates.Certificate.Thumbprint));
    }

    [Test]
    public async Task ServeObtainsItsCertificateThroughItsOwnWebListenerAndServesItOnImaps()
    {
        var webHttpPort = _ca.HttpPort;
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Web__Port"] = RunningServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Web__HttpPort"] = webHttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Tls__Acme__Enabled"] = "true",
            ["MailAuth__Tls__Acme__DirectoryUrl"] = _ca.DirectoryUrl,
            ["MailAuth__Tls__Acme__HostNames__0"] = "localhost",
            ["MailAuth__Tls__Acme__TrustedCaFile"] = _ca.CaFile,
        });
        Assert.That(await server.LoggedAsync("acme: obtained a certificate for localhost"), Is.True, server.Log + "\npebble:\n" + _ca.Log);
        Assert.That(_ca.Log.ToString(), Does.Contain($"Attempting to validate w/ HTTP: http://localhost:{webHttpPort}/.well-known/acme-challenge/")
            .And.Contains("set VALID by completed challenge"), "pebble's VA fetched the key authorization from the web listener");

        using var root = await _ca.RootAsync();
        await using var imaps = await ImapTestClient.ConnectTlsAsync(server.ImapsPort, "localhost", TrustingOnly(root));
        Assert.That(imaps.Greeting, Does.StartWith("* OK"));
    }

    [Test]
    public async Task ServeCoversItsHostAndEveryDomainsSetUpNamesLeavesOutANameThatFailsAndRenewsWhileConnectionsGoOn()
    {
        // autodiscover.family.example has no DNS: its authorization fails for real, at every order.
        await _ca.FailDnsAsync("autodiscover.family.example");
        var cli = new MailAuthProcess();
        Assert.That((await cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
        var webPort = RunningServer.FreePort();
        var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Smtp__HostName"] = "mail.family.example",
            ["MailAuth__Web__Port"] = webPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Web__HttpPort"] = _ca.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Tls__Acme__Enabled"] = "true",
            ["MailAuth__Tls__Acme__DirectoryUrl"] = _ca.DirectoryUrl,
            ["MailAuth__Tls__Acme__TrustedCaFile"] = _ca.CaFile,
        }, cli);
        try
        {
            const string Dropped = "acme: autodiscover.family.example dropped from the certificate, its authorization failed: urn:ietf:params:acme:error:";
            Assert.That(await LoggedWithinAsync(server, "acme: obtained a certificate for mail.family.example, autoconfig.family.example, valid until", 1),
                Is.True, server.Log + "\npebble:\n" + _ca.Log);
            Assert.That(Occurrences(server.Log, Dropped), Is.EqualTo(1), server.Log);

            using var root = await _ca.RootAsync();
            await using var imaps = await ImapTestClient.ConnectTlsAsync(server.ImapsPort, "mail.family.example", TrustingOnly(root, "mail.family.example"));
            var first = imaps.ServedCertificate;
            Assert.That(DnsNames(first), Is.EqualTo(new[] { "mail.family.example", "autoconfig.family.example" }));
            await using (var smtps = await ImapTestClient.ConnectTlsAsync(server.SubmissionsPort, "mail.family.example", TrustingOnly(root, "mail.family.example")))
            {
                Assert.That(smtps.Greeting, Does.StartWith("220 "));
                Assert.That(smtps.ServedCertificate.Thumbprint, Is.EqualTo(first.Thumbprint));
            }
            Assert.That((await WebCertificateAsync(webPort, "autoconfig.family.example", root)).Thumbprint, Is.EqualTo(first.Thumbprint));

            // A domain added while serving is in the next order: here the renewal, two thirds into the short lifetime.
            Assert.That((await server.Cli.RunAsync("domain", "add", "second.example")).ExitCode, Is.Zero);
            Assert.That(await LoggedWithinAsync(server,
                "acme: obtained a certificate for mail.family.example, autoconfig.family.example, autoconfig.second.example, autodiscover.second.example, valid until", 1),
                Is.True, server.Log + "\npebble:\n" + _ca.Log);
            Assert.That(Occurrences(server.Log, Dropped), Is.EqualTo(2), "the dropped name is tried again at the renewal\n" + server.Log);

            await using var renewedImaps = await ImapTestClient.ConnectTlsAsync(server.ImapsPort, "autoconfig.second.example", TrustingOnly(root, "autoconfig.second.example"));
            var renewed = renewedImaps.ServedCertificate;
            Assert.That(renewed.Thumbprint, Is.Not.EqualTo(first.Thumbprint));
            await using (var smtps = await ImapTestClient.ConnectTlsAsync(server.SubmissionsPort, "mail.family.example", TrustingOnly(root, "mail.family.example")))
            {
                Assert.That(smtps.ServedCertificate.Thumbprint, Is.EqualTo(renewed.Thumbprint));
            }
            Assert.That((await WebCertificateAsync(webPort, "autodiscover.second.example", root)).Thumbprint, Is.EqualTo(renewed.Thumbprint));

            // The connection opened on the first certificate goes on.
            Assert.That((await imaps.CommandAsync("a1", "NOOP"))[^1], Does.StartWith("a1 OK"));
        }
        finally
        {
            await server.DisposeAsync();
            cli.Dispose();
        }
    }

    [Test]
    public async Task ServeObtainsItsCertificateByTlsAlpn01OnItsWebListenersHttpsPort()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["MailAuth__Web__Port"] = _ca.TlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MailAuth__Tls__Acme__Enabled"] = "true",
            ["MailAuth__Tls__Acme__Challenge"] = "tls-alpn-01",
            ["MailAuth__Tls__Acme__DirectoryUrl"] = _ca.DirectoryUrl,
            ["MailAuth__Tls__Acme__HostNames__0"] = "localhost",
            ["MailAuth__Tls__Acme__TrustedCaFile"] = _ca.CaFile,
        });
        Assert.That(await LoggedWithinAsync(server, "acme: obtained a certificate for localhost, valid until", 1), Is.True, server.Log + "\npebble:\n" + _ca.Log);
        // No plain-HTTP port: the CA could only have validated by TLS-ALPN-01 on the HTTPS port.
        Assert.That(server.Log, Does.Not.Contain("listening web http on"));

        // Ordinary handshakes (no acme-tls/1) got and get the served certificate, never a challenge one.
        using var root = await _ca.RootAsync();
        Assert.That((await WebCertificateAsync(_ca.TlsPort, "localhost", root)).Issuer, Does.Contain("Pebble"));
    }

    /// <summary>Whether <paramref name="text"/> is in the log within a pebble certificate's lifetime and a half (the renewal comes at two thirds).</summary>
    private static async Task<bool> LoggedWithinAsync(RunningServer server, string text, int times)
    {
        var deadline = DateTime.UtcNow + PebbleCa.ValidityPeriod * 1.5 + TimeSpan.FromSeconds(10);
        while (Occurrences(server.Log, text) < times)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
        return true;
    }

    private static int Occurrences(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    private static string[] DnsNames(X509Certificate2 certificate) =>
        [.. certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(extension => extension.EnumerateDnsNames())];

    /// <summary>The certificate the web listener's HTTPS port serves for <paramref name="serverName"/>, checked against pebble's root.</summary>
    private static async Task<X509Certificate2> WebCertificateAsync(int port, string serverName, X509Certificate2 root)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        X509Certificate2? served = null;
        var accept = TrustingOnly(root, serverName);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, chain, errors) =>
        {
            served = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
            return accept(served, chain, errors);
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions { TargetHost = serverName }, timeout.Token);
        return served!;
    }

    /// <summary>Trusts pebble's root alone: the intermediate must come from the server (the chain file), the name must be <paramref name="hostName"/>.</summary>
    private static Func<X509Certificate2, X509Chain?, System.Net.Security.SslPolicyErrors, bool> TrustingOnly(X509Certificate2 root, string hostName = "localhost") =>
        (certificate, chain, _) =>
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
        return verify.Build(certificate) && certificate.MatchesHostname(hostName);
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
