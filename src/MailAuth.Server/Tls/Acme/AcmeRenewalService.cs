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
/// With <c>MailAuth:Tls:Acme:Enabled</c>: obtains a certificate when there is none, renews it two
/// thirds into its lifetime, orders again soon (at most every <see cref="NameChangeOrderInterval"/>)
/// when a name it should cover is missing (a domain added), and after a failure retries with a
/// growing delay while the certificate in use goes on serving. Names whose authorization failed
/// are left out until the next renewal, which tries every name again.
/// </summary>
internal sealed partial class AcmeRenewalService(
    MailAuthOptions options,
    CertificateProvider certificates,
    AcmeHttpChallenges challenges,
    AcmeHostNames hostNames,
    MailAuthMetrics metrics,
    TimeProvider clock,
    ILogger<AcmeRenewalService> logger,
    IHostApplicationLifetime? lifetime = null,
    AcmeTlsAlpnChallenges? tlsAlpnChallenges = null) : BackgroundService
{
    /// <summary>Task.Delay takes at most about 49 days; a long wait is taken in steps and the plan looked at again.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    /// <summary>How often the hosted domains are read again when the names follow them.</summary>
    internal TimeSpan NameCheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The least time from one order to an order for names the certificate lacks: domains added one
    /// after another cost an order or two, not one each (Let's Encrypt allows 300 new orders per 3 hours).
    /// </summary>
    internal TimeSpan NameChangeOrderInterval { get; init; } = TimeSpan.FromMinutes(10);

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
        using var http = AcmeHttp.Create(acme.TrustedCaFile);
        using var accountKey = AcmeFiles.AccountKey(options.DataDirectory);
        var client = new AcmeClient(http, new Uri(acme.DirectoryUrl), new AcmeSigner(accountKey), clock, logger);
        var failures = 0;
        var retryAt = DateTimeOffset.MinValue;
        var lastOrder = DateTimeOffset.MinValue;
        var dropped = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        IReadOnlyList<string> wanted = acme.EffectiveHostNames(options.Smtp);
        while (!stoppingToken.IsCancellationRequested)
        {
            wanted = await WantedAsync(wanted, stoppingToken);
            var (due, names, renewal) = Plan(certificates.Current, wanted, dropped, lastOrder);
            if (retryAt > due)
            {
                due = retryAt;
            }
            var now = clock.GetUtcNow();
            if (due > now)
            {
                var wait = due - now;
                var longest = hostNames.FollowsDomains ? NameCheckInterval : LongestWait;
                await Task.Delay(wait < longest ? wait : longest, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            try
            {
                lastOrder = clock.GetUtcNow();
                var obtained = await ObtainAsync(client, names, stoppingToken);
                if (renewal)
                {
                    dropped.Clear();
                }
                dropped.UnionWith(obtained.Dropped);
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
                LogFailed(string.Join(", ", names), failures, e.Message, retryAt.UtcDateTime, served.Source,
                    served.Certificate.NotAfter.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>
    /// When to order and for which names: at once without an ACME certificate, at the renewal time
    /// for every wanted name, and earlier (rate-bounded) for the wanted names still missing, leaving
    /// out those whose authorization failed last time. <c>Renewal</c>: every wanted name is tried.
    /// </summary>
    private (DateTimeOffset Due, IReadOnlyList<string> Names, bool Renewal) Plan(
        ServedCertificate current, IReadOnlyList<string> wanted, HashSet<string> dropped, DateTimeOffset lastOrder)
    {
        if (current.Source != CertificateProvider.SourceAcme)
        {
            return (DateTimeOffset.MinValue, wanted, true);
        }
        var certificate = current.Certificate;
        var renewalTime = new DateTimeOffset(AcmeSchedule.RenewalTime(certificate.NotBefore, certificate.NotAfter));
        var covered = DnsNames(certificate);
        if (wanted.All(name => covered.Contains(name) || dropped.Contains(name)))
        {
            return (renewalTime, wanted, true);
        }
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var soon = (lastOrder > notBefore ? lastOrder : notBefore) + NameChangeOrderInterval;
        return soon < renewalTime ? (soon, [.. wanted.Where(name => !dropped.Contains(name))], false) : (renewalTime, wanted, true);
    }

    /// <summary>The names wanted now; when the hosted domains cannot be read, those wanted before (with a log line).</summary>
    private async Task<IReadOnlyList<string>> WantedAsync(IReadOnlyList<string> before, CancellationToken cancellationToken)
    {
        try
        {
            return await hostNames.WantedAsync(cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            LogNamesUnknown(e.Message);
            return before;
        }
    }

    private async Task<AcmeCertificate> ObtainAsync(AcmeClient client, IReadOnlyList<string> hostNames, CancellationToken cancellationToken)
    {
        using var certificateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var answers = new AcmeChallengeAnswers(options.Tls.Acme.Challenge, challenges, tlsAlpnChallenges ?? new AcmeTlsAlpnChallenges());
        var obtained = await client.ObtainAsync(hostNames, options.Tls.Acme.Email, certificateKey, answers, cancellationToken);
        AcmeFiles.Store(options.DataDirectory, obtained.Chain, certificateKey);
        if (!certificates.Reload("a certificate from ACME") || certificates.Current.Source != CertificateProvider.SourceAcme)
        {
            throw new AcmeException("the certificate the CA issued could not be served (see the tls: line before)");
        }
        var served = certificates.Certificate;
        LogObtained(string.Join(", ", obtained.Names), served.NotAfter.ToUniversalTime(),
            AcmeSchedule.RenewalTime(served.NotBefore, served.NotAfter));
        return obtained;
    }

    private static HashSet<string> DnsNames(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(extension => extension.EnumerateDnsNames())
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "acme: obtained a certificate for {Names}, valid until {NotAfter:u}; renewal from {RenewAt:u}")]
    private partial void LogObtained(string names, DateTime notAfter, DateTime renewAt);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning, Message = "acme: the hosted domains could not be read ({Problem}); the names of before are kept")]
    private partial void LogNamesUnknown(string problem);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Error, Message =
        "acme: could not obtain a certificate for {Names} (failure {Failures}): {Problem}; next attempt at {RetryAt:u}, until then the {Source} certificate valid until {NotAfter} is served")]
    private partial void LogFailed(string names, int failures, string problem, DateTime retryAt, string source, string notAfter);
}
