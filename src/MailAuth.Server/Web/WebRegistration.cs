using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Web;

/// <summary>The web listener and what its endpoints use, for <c>serve</c>.</summary>
internal static class WebRegistration
{
    public static IServiceCollection AddWeb(this IServiceCollection services)
    {
        services.AddSingleton<HostedDomainLookup>();
        services.AddSingleton<MailServerSettings>();
        services.AddSingleton<MailboxHolder>();
        services.AddSingleton<ProfileSigner>();
        services.AddSingleton<MailboxApi>();
        services.AddHostedService<WebService>();
        return services;
    }
}
