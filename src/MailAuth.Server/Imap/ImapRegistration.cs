using MailAuth.Server.Hosting;
using MailAuth.Server.Maildir;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailAuth.Server.Imap;

internal static class ImapRegistration
{
    /// <summary>Registers the IMAP handler and its <see cref="Protocol.ListenerDefinition"/>s (Port: STARTTLS, TlsPort: implicit TLS).</summary>
    public static IServiceCollection AddImap(this IServiceCollection services, MailAuthOptions options)
    {
        services.TryAddSingleton<MaildirFolders>();
        services.TryAddSingleton<MailboxSessions>();
        services.AddSingleton<ImapHandler>();
        // Both ports count against one limit: a client's STARTTLS and TLS connections are the same client.
        var connections = new ConnectionLimiter(options.Imap.MaxConnectionsPerAddress, options.Imap.MaxConnections);
        services.AddSingleton(provider => new ListenerDefinition("imap", options.Imap.Port, ImplicitTls: false, options.Imap, connections, provider.GetRequiredService<ImapHandler>()));
        services.AddSingleton(provider => new ListenerDefinition("imaps", options.Imap.TlsPort, ImplicitTls: true, options.Imap, connections, provider.GetRequiredService<ImapHandler>()));
        return services;
    }
}
