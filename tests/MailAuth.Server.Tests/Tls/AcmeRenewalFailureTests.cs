using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailAuth.Core.Observability;
using MailAuth.Server.Hosting;
using MailAuth.Server.Tls;
using MailAuth.Server.Tls.Acme;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Server.Tests.Tls;

/// <summary>A renewal that fails (the CA unreachable) is counted and retried later, and the certificate in use goes on serving.</summary>
[TestFixture]
public sealed class AcmeRenewalFailureTests
{
    [Test]
    public async Task AFailedRenewalKeepsTheCertificateInUseAndIsCounted()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("mailauth-acme-fail-").FullName;
        try
        {
            // An ACME certificate past two thirds of its life: due for renewal at once.
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=mail.family.example", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("mail.family.example");
            request.CertificateExtensions.Add(names.Build());
            using var old = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-80), DateTimeOffset.UtcNow.AddDays(10));
            AcmeFiles.Store(dataDirectory, old.ExportCertificatePem(), key);

            var options = new MailAuthOptions { DataDirectory = dataDirectory };
            options.Tls.Acme.Enabled = true;
            options.Tls.Acme.HostNames = ["mail.family.example"];
            options.Tls.Acme.DirectoryUrl = $"https://127.0.0.1:{RunningServer.FreePort()}/dir"; // nothing listens
            var certificates = new CertificateProvider(options, TimeProvider.System, NullLogger<CertificateProvider>.Instance);
            Assert.That(certificates.Current.Source, Is.EqualTo(CertificateProvider.SourceAcme));

            using var metrics = new MailAuthMetrics();
            var failures = 0L;
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == MailAuthMetrics.MeterName && instrument.Name == "mailauth.acme.renewal.failures")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failures, value));
            listener.Start();

            using (var acme = new AcmeRenewalService(options, certificates, new AcmeHttpChallenges(), new AcmeHostNames(options, null), metrics, TimeProvider.System,
                       NullLogger<AcmeRenewalService>.Instance))
            {
                await acme.StartAsync(CancellationToken.None);
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (Interlocked.Read(ref failures) == 0 && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }
                await Task.Delay(300); // the next attempt waits 5 minutes: no second failure comes
                await acme.StopAsync(CancellationToken.None);
            }
            Assert.That(Interlocked.Read(ref failures), Is.EqualTo(1));
            Assert.That(certificates.Current.Source, Is.EqualTo(CertificateProvider.SourceAcme));
            Assert.That(certificates.Certificate.Thumbprint, Is.EqualTo(old.Thumbprint));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
