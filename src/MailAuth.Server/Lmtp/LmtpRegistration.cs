using MailAuth.Server.Socketmap;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Lmtp;

internal static class LmtpRegistration
{
    /// <summary>LMTP delivery and the socketmap lookups, for the MTA in front; each listens only when configured. Needs <c>AddSmtp</c> (spool, recipients).</summary>
    public static IServiceCollection AddLmtpAndSocketmap(this IServiceCollection services)
    {
        services.AddSingleton<LmtpDelivery>();
        services.AddHostedService<LmtpService>();
        services.AddHostedService<NodeLmtpService>();
        services.AddSingleton<SocketmapLookup>();
        services.AddHostedService<SocketmapService>();
        return services;
    }
}
