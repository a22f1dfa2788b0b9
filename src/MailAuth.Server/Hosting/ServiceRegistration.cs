using MailAuth.Core.Authentication;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Hosting;

/// <summary>The one place where the core services are put together, for <c>serve</c> and the CLI verbs alike.</summary>
internal static class ServiceRegistration
{
    public static IServiceCollection AddMailAuthCore(this IServiceCollection services, MailAuthOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(options.Hashing);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => SqliteDatabase.OpenInDirectory(options.DataDirectory));
        services.AddSingleton<SqliteMailboxStore>();
        services.AddSingleton<IMailboxCredentialStore>(provider => provider.GetRequiredService<SqliteMailboxStore>());
        services.AddSingleton<IMailboxDirectory>(provider => provider.GetRequiredService<SqliteMailboxStore>());
        services.AddSingleton<IPasswordHasher>(_ => new PasswordHasher(options.Hashing));
        services.AddSingleton(_ => new HashingPool(options.Hashing.EffectiveWorkers, options.Hashing.MaxQueuedVerifications));
        services.AddSingleton<MailAuthenticator>();
        services.AddSingleton<MailboxAdministration>();
        services.AddSingleton<PasswdFileImporter>();
        return services;
    }
}
