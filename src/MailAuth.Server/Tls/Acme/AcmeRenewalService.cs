using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using MailAuth.Core.Observability;
using MailAuth.Server.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Tls.Acme;

/// <summary>
/// With <c>MailAuth:Tls:Acme:Enabled</c>: obtains a certificate when there is none (or it does not
/// cover the configured names), renews it two thirds into its lifetime, and after a failure
/// retries with a growing delay while the certificate in use goes on serving.
/// </summary>
internal sealed partial class AcmeRenewalService(
    MailAuthOptions options,
    CertificateProvider certificates,
    AcmeHttpChallenges challenges,
    MailAuthMetrics metrics,
    TimeProvider clock,
    ILogger<AcmeRenewalService> logger,
    IHostApplicationLifetime? lifetime = null) : BackgroundService
{
    /// <summary>Task.Delay takes at most about 49 days; a long wait is taken in steps and the plan looked at again.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var acme = options.Tls.Acme;
        if (!acme.Enabled)
        {
            return;
        }
        if (lifetime is not null)
        {
            // The CA checks HTTP-01 on the web listener: ask only once every listener is bound.
            var started = new TaskCompletionSource();
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
        var hostNames = acme.EffectiveHostNames(options.Smtp);
        using var http = AcmeHttp.Create(acme.TrustedCaFile);
        using var accountKey = AcmeFiles.AccountKey(options.DataDirectory);
        var client = new AcmeClient(http, new Uri(acme.DirectoryUrl), new AcmeSigner(accountKey), clock, logger);
        var failures = 0;
        var retryAt = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var current = certificates.Current;
            var due = current.Source == CertificateProvider.SourceAcme && Covers(current.Certificate, hostNames)
                ? new DateTimeOffset(AcmeSchedule.RenewalTime(current.Certificate.NotBefore, current.Certificate.NotAfter))
                : DateTimeOffset.MinValue;
            if (retryAt > due)
            {
                due = retryAt;
            }
            var now = clock.GetUtcNow();
            if (due > now)
            {
                var wait = due - now;
                await Task.Delay(wait < LongestWait ? wait : LongestWait, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            try
            {
                await ObtainAsync(client, hostNames, stoppingToken);
                failures = 0;
                retryAt = DateTimeOffset.MinValue;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is AcmeException or HttpRequestException or IOException
                                          or UnauthorizedAccessException or CryptographicException or JsonException or TaskCanceledException
                                          or InvalidOperationException or KeyNotFoundException)
            {
                failures++;
                retryAt = clock.GetUtcNow() + AcmeSchedule.Backoff(failures);
                metrics.AcmeRenewalFailed();
                var served = certificates.Current;
                LogFailed(string.Join(", ", hostNames), failures, e.Message, retryAt.UtcDateTime, served.Source,
                    served.Certificate.NotAfter.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture));
            }
        }
    }

    private async Task ObtainAsync(AcmeClient client, IReadOnlyList<string> hostNames, CancellationToken cancellationToken)
    {
        using var certificateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chain = await client.ObtainAsync(hostNames, options.Tls.Acme.Email, certificateKey, challenges, cancellationToken);
        AcmeFiles.Store(options.DataDirectory, chain, certificateKey);
        if (!certificates.Reload("a certificate from ACME") || certificates.Current.Source != CertificateProvider.SourceAcme)
        {
            throw new AcmeException("the certificate the CA issued could not be served (see the tls: line before)");
        }
        var served = certificates.Certificate;
        LogObtained(string.Join(", ", hostNames), served.NotAfter.ToUniversalTime(),
            AcmeSchedule.RenewalTime(served.NotBefore, served.NotAfter));
    }

    private static bool Covers(X509Certificate2 certificate, IReadOnlyList<string> hostNames)
    {
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(extension => extension.EnumerateDnsNames())
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        return hostNames.All(names.Contains);
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "acme: obtained a certificate for {Names}, valid until {NotAfter:u}; renewal from {RenewAt:u}")]
    private partial void LogObtained(string names, DateTime notAfter, DateTime renewAt);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Error, Message =
        "acme: could not obtain a certificate for {Names} (failure {Failures}): {Problem}; next attempt at {RetryAt:u}, until then the {Source} certificate valid until {NotAfter} is served")]
    private partial void LogFailed(string names, int failures, string problem, DateTime retryAt, string source, string notAfter);
}
