using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sessions;
using MailAuth.Server.Smtp.Delivery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Smtp;

internal static class SmtpRegistration
{
    /// <summary>Registers the SMTP submission handler and its <see cref="Protocol.ListenerDefinition"/>s (SubmissionPort: STARTTLS, SubmissionsPort: implicit TLS).</summary>
    public static IServiceCollection AddSmtp(this IServiceCollection services, MailAuthOptions options)
    {
        // SmtpOptions.Validate has refused a RelayHost that does not parse.
        SmtpRelayClient? relay = RelayEndpoint.TryParse(options.Smtp.RelayHost, out var endpoint)
            ? new SmtpRelayClient(endpoint!, SmtpProtocolHandler.HostNameOf(options.Smtp), options.Smtp.RelayTimeout)
            : null;
        services.TryAddSingleton<MailboxSessions>();
        services.AddSingleton<RecipientResolver>();
        services.AddSingleton<MessageSpool>();
        // Submission and LMTP hand mail for a mailbox homed on another node to that node (Several nodes).
        services.AddSingleton(new Nodes.NodeLmtpClient(SmtpProtocolHandler.HostNameOf(options.Smtp), options.Smtp.RelayTimeout));
        services.AddSingleton<Nodes.HomeNodeDelivery>();
        services.AddSingleton(provider => new SmtpDelivery(
            provider.GetRequiredService<Maildir.MaildirDelivery>(), provider.GetRequiredService<Maildir.MailboxQuota>(), relay,
            provider.GetRequiredService<MailAuth.Core.Observability.MailAuthMetrics>(), provider.GetRequiredService<ILogger<SmtpDelivery>>(),
            provider.GetRequiredService<Nodes.HomeNodeDelivery>()));
        services.AddSingleton<SmtpProtocolHandler>();

        // One limiter for both ports: a client's connections count together whichever port it uses.
        var connections = new ConnectionLimiter(options.Smtp.MaxConnectionsPerAddress, options.Smtp.MaxConnections);
        services.AddSingleton(provider => new ListenerDefinition(
            "submission", options.Smtp.SubmissionPort, ImplicitTls: false, options.Smtp, connections,
            provider.GetRequiredService<SmtpProtocolHandler>()));
        services.AddSingleton(provider => new ListenerDefinition(
            "submissions", options.Smtp.SubmissionsPort, ImplicitTls: true, options.Smtp, connections,
            provider.GetRequiredService<SmtpProtocolHandler>()));
        return services;
    }
}
