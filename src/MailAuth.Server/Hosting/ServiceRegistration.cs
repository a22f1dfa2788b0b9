using MailAuth.Core;
using MailAuth.Server.Maildir;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailAuth.Server.Hosting;

/// <summary>The core services with the settings they take, and the Maildirs on disk, for <c>serve</c> and the CLI verbs alike.</summary>
internal static class ServiceRegistration
{
    public static IServiceCollection AddMailAuth(this IServiceCollection services, MailAuthOptions options)
    {
        services.AddSingleton(options);
        services.AddMailAuthCore(options.DataDirectory, options.Store.ToSettings(), options.Hashing, options.Authentication);
        services.AddSingleton<MaildirLocator>();
        services.TryAddSingleton<MaildirFolders>();
        services.AddSingleton<MaildirDelivery>();
        services.AddSingleton<MaildirArchive>();
        services.AddSingleton<MailboxUsage>();
        services.AddSingleton<MailboxQuota>();
        services.AddSingleton<Nodes.ClusterNodes>();
        return services;
    }
}
