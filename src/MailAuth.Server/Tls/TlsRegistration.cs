using MailAuth.Core.Mailboxes;
using MailAuth.Server.Hosting;
using MailAuth.Server.Tls.Acme;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Tls;

internal static class TlsRegistration
{
    /// <summary>
    /// What keeps the served certificate current: reload on SIGHUP and on a change of the
    /// configured files, and ACME (its pending HTTP-01 challenges are for the web listener's
    /// <see cref="AcmeChallengeEndpoints.MapAcmeHttpChallenges"/>).
    /// </summary>
    public static IServiceCollection AddCertificateRenewal(this IServiceCollection services)
    {
        services.AddSingleton<AcmeHttpChallenges>();
        services.AddSingleton<AcmeTlsAlpnChallenges>();
        services.AddSingleton(provider => new AcmeHostNames(provider.GetRequiredService<MailAuthOptions>(), provider.GetService<IMailboxDirectory>()));
        services.AddHostedService<CertificateReloader>();
        services.AddHostedService<AcmeRenewalService>();
        return services;
    }
}
