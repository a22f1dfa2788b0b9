using MailAuth.Core.Accounts;
using MailAuth.Core.Audit;
using MailAuth.Core.Authentication;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Notifications;
using MailAuth.Core.Observability;
using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core;

/// <summary>
/// The one place where the core services are put together: the store, the login path, the mailbox
/// and manager-account administration. Every front end (<c>serve</c>, the CLI verbs) starts here.
/// </summary>
public static class MailAuthCoreServices
{
    /// <summary>
    /// Loads libsodium, which every password operation needs; throws
    /// <see cref="PasswordHashingUnavailableException"/> with a one-line, actionable message when it cannot.
    /// </summary>
    public static void EnsureHashingAvailable() => LibSodium.EnsureAvailable();

    /// <summary>
    /// Opens the store now rather than at the first request, so that a server reports a database it
    /// cannot use before it listens; 2FA secrets stored raw by earlier versions are sealed.
    /// </summary>
    public static void OpenStorage(this IServiceProvider provider)
    {
        _ = provider.GetRequiredService<StoreDatabase>();
        _ = provider.GetRequiredService<ManagerAccountStore>();
    }

    /// <param name="dataDirectory">Where the SQLite database and the secrets key live (absolute).</param>
    /// <param name="store">Validated <c>MailAuth:Store</c> settings: which database holds the store.</param>
    /// <param name="hashing">Validated <c>MailAuth:Hashing</c> settings.</param>
    /// <param name="authentication">Validated <c>MailAuth:Authentication</c> settings.</param>
    public static IServiceCollection AddMailAuthCore(
        this IServiceCollection services, string dataDirectory, StoreSettings store, HashingOptions hashing, AuthenticationOptions authentication)
    {
        services.AddSingleton(hashing);
        services.AddSingleton(authentication);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => StoreDatabase.Open(store, dataDirectory));
        // The login path gets a store that reads mailbox credentials and nothing else.
        services.AddSingleton<IMailboxCredentialStore, MailboxCredentialStore>();
        // Mail routing gets a directory that knows whether a recipient exists, and no password hash.
        services.AddSingleton<IRecipientDirectory, RecipientDirectory>();
        services.AddSingleton<MailboxChangeLog>();
        services.AddSingleton<IMailboxChangeFeed>(provider => provider.GetRequiredService<MailboxChangeLog>());
        // PostgreSQL pushes each committed change to every node; SQLite is polled.
        services.AddSingleton<IMailboxChangeSignal>(provider => provider.GetRequiredService<StoreDatabase>() is PostgresDatabase postgres
            ? new PostgresMailboxChangeListener(
                postgres, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<PostgresMailboxChangeListener>>())
            : new PolledMailboxChangeSignal(provider.GetRequiredService<TimeProvider>()));
        // The metrics hold what they observe and nothing else: the login path reaches them, and
        // through them must not reach the manager accounts (LoginPathIsolationTests).
        services.AddSingleton(_ => new MailAuthMetrics());
        services.AddSingleton(provider =>
        {
            var journal = new StoreJournal(
                provider.GetRequiredService<StoreDatabase>(), provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILogger<StoreJournal>>());
            provider.GetRequiredService<MailAuthMetrics>().ObserveOutbox(journal.CountPending);
            return journal;
        });
        services.AddSingleton<IAuditLog>(provider => provider.GetRequiredService<StoreJournal>());
        services.AddSingleton<INotificationOutbox>(provider => provider.GetRequiredService<StoreJournal>());
        services.AddSingleton(provider =>
        {
            var store = new ManagerAccountStore(
                provider.GetRequiredService<StoreDatabase>(), provider.GetRequiredService<StoreJournal>(), provider.GetRequiredService<TimeProvider>());
            // 2FA secrets stored raw by earlier versions are sealed the first time the store is used.
            store.SealLegacySecrets();
            return store;
        });
        services.AddSingleton<IMailboxDirectory>(provider => new MailboxStore(
            provider.GetRequiredService<StoreDatabase>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<StoreJournal>(),
            [provider.GetRequiredService<ManagerAccountStore>()]));
        services.AddSingleton(provider => new ManagerAccountService(
            provider.GetRequiredService<ManagerAccountStore>(),
            provider.GetRequiredService<CredentialVerifier>(),
            new StoredFailureThrottle(
                provider.GetRequiredService<StoreDatabase>(), authentication.Throttle, provider.GetRequiredService<TimeProvider>(),
                ManagerAccountService.LoginRealm),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<ManagerAccountService>>()));
        services.AddSingleton<IPasswordHasher>(_ => new PasswordHasher(hashing));
        services.AddSingleton(provider =>
        {
            var metrics = provider.GetRequiredService<MailAuthMetrics>();
            var pool = new HashingPool(hashing.EffectiveWorkers, hashing.MaxQueuedVerifications, metrics);
            metrics.Observe(pool);
            return pool;
        });
        services.AddSingleton(provider =>
        {
            var throttle = new FailureThrottle(
                authentication.Throttle,
                authentication.TrustedNetworks.Select(System.Net.IPNetwork.Parse),
                provider.GetRequiredService<TimeProvider>());
            provider.GetRequiredService<MailAuthMetrics>().Observe(throttle);
            return throttle;
        });
        services.AddSingleton(provider =>
        {
            var cache = new VerifiedLoginCache(authentication.VerifiedLoginCacheTime, provider.GetRequiredService<TimeProvider>());
            provider.GetRequiredService<MailAuthMetrics>().Observe(cache);
            return cache;
        });
        services.AddSingleton(provider => new CredentialVerifier(
            provider.GetRequiredService<IPasswordHasher>(), provider.GetRequiredService<HashingPool>()));
        services.AddSingleton(provider => new MailAuthenticator(
            provider.GetRequiredService<IMailboxCredentialStore>(),
            provider.GetRequiredService<CredentialVerifier>(),
            provider.GetRequiredService<FailureThrottle>(),
            // Several nodes share a PostgreSQL store: they share the failure counts too.
            provider.GetRequiredService<StoreDatabase>() is PostgresDatabase shared
                ? new StoredFailureThrottle(shared, authentication.Throttle, provider.GetRequiredService<TimeProvider>(), MailAuthenticator.ClusterThrottleRealm)
                : null,
            provider.GetRequiredService<VerifiedLoginCache>(),
            provider.GetRequiredService<ILogger<MailAuthenticator>>(),
            provider.GetRequiredService<MailAuthMetrics>()));
        services.AddSingleton<MailboxAdministration>();
        services.AddSingleton<IMailboxQuotas>(provider => new MailboxQuotaStore(
            provider.GetRequiredService<StoreDatabase>(), provider.GetRequiredService<StoreJournal>()));
        services.AddSingleton<QuotaAdministration>();
        services.AddSingleton<IMailboxHomes>(provider => new MailboxHomeStore(provider.GetRequiredService<StoreDatabase>()));
        services.AddSingleton<IMailboxMoves>(provider => new MailboxMoveStore(
            provider.GetRequiredService<StoreDatabase>(), provider.GetRequiredService<StoreJournal>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<PasswdFileImporter>();
        return services;
    }
}
