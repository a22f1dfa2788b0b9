using MailAuth.Core.Accounts;
using MailAuth.Core.Audit;
using MailAuth.Core.Authentication;
using MailAuth.Core.Notifications;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using MailAuth.Server.Maildir;
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
        // The login path gets a store that reads mailbox credentials and nothing else.
        services.AddSingleton<IMailboxCredentialStore, SqliteMailboxCredentialStore>();
        services.AddSingleton<MailboxChangeLog>();
        services.AddSingleton<IMailboxChangeFeed>(provider => provider.GetRequiredService<MailboxChangeLog>());
        services.AddSingleton<SqliteJournal>();
        services.AddSingleton<IAuditLog>(provider => provider.GetRequiredService<SqliteJournal>());
        services.AddSingleton<INotificationOutbox>(provider => provider.GetRequiredService<SqliteJournal>());
        services.AddSingleton(provider =>
        {
            var store = new SqliteManagerAccountStore(
                provider.GetRequiredService<SqliteDatabase>(), provider.GetRequiredService<SqliteJournal>(), provider.GetRequiredService<TimeProvider>());
            // 2FA secrets stored raw by earlier versions are sealed the first time the store is used.
            store.SealLegacySecrets();
            return store;
        });
        services.AddSingleton<IMailboxDirectory>(provider => new SqliteMailboxStore(
            provider.GetRequiredService<SqliteDatabase>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<SqliteJournal>(),
            [provider.GetRequiredService<SqliteManagerAccountStore>()]));
        services.AddSingleton(provider => new ManagerAccountService(
            provider.GetRequiredService<SqliteManagerAccountStore>(),
            provider.GetRequiredService<CredentialVerifier>(),
            new StoredFailureThrottle(
                provider.GetRequiredService<SqliteDatabase>(), options.Authentication.Throttle, provider.GetRequiredService<TimeProvider>(),
                ManagerAccountService.LoginRealm),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ManagerAccountService>>()));
        services.AddSingleton<IPasswordHasher>(_ => new PasswordHasher(options.Hashing));
        services.AddSingleton(_ => new HashingPool(options.Hashing.EffectiveWorkers, options.Hashing.MaxQueuedVerifications));
        services.AddSingleton(provider => new FailureThrottle(
            options.Authentication.Throttle,
            options.Authentication.TrustedNetworks.Select(System.Net.IPNetwork.Parse),
            provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new VerifiedLoginCache(
            options.Authentication.VerifiedLoginCacheTime, provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new CredentialVerifier(
            provider.GetRequiredService<IPasswordHasher>(), provider.GetRequiredService<HashingPool>()));
        services.AddSingleton(provider => new MailAuthenticator(
            provider.GetRequiredService<IMailboxCredentialStore>(),
            provider.GetRequiredService<CredentialVerifier>(),
            provider.GetRequiredService<FailureThrottle>(),
            provider.GetRequiredService<VerifiedLoginCache>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<MailAuthenticator>>()));
        services.AddSingleton<MailboxAdministration>();
        services.AddSingleton<PasswdFileImporter>();
        services.AddSingleton<MaildirLocator>();
        services.AddSingleton<MaildirDelivery>();
        services.AddSingleton<MaildirArchive>();
        return services;
    }
}
