using MailAuth.Server.Hosting;
using MailAuth.Server.Smtp;

namespace MailAuth.Server.Web;

/// <summary>How a client connects to one listener: implicit TLS (RFC 8314) or STARTTLS.</summary>
internal enum TransportSecurity
{
    ImplicitTls,
    StartTls,
}

internal sealed record MailServerEndpoint(string Protocol, string HostName, int Port, TransportSecurity Security);

/// <summary>
/// What every set-up answer (autoconfig, Autodiscover, Apple profile, <c>dns records</c>) tells a
/// client: the host name of <c>MailAuth:Smtp:HostName</c> (the machine's name when empty) and the
/// configured ports, a disabled one (0) left out. Implicit TLS comes first: RFC 8314 §3 prefers it.
/// </summary>
internal sealed class MailServerSettings(MailAuthOptions options)
{
    public string HostName { get; } = SmtpProtocolHandler.HostNameOf(options.Smtp);

    public IReadOnlyList<MailServerEndpoint> Imap { get; } = Endpoints(
        "imap", SmtpProtocolHandler.HostNameOf(options.Smtp), options.Imap.TlsPort, options.Imap.Port);

    public IReadOnlyList<MailServerEndpoint> Submission { get; } = Endpoints(
        "submission", SmtpProtocolHandler.HostNameOf(options.Smtp), options.Smtp.SubmissionsPort, options.Smtp.SubmissionPort);

    private static List<MailServerEndpoint> Endpoints(string protocol, string hostName, int implicitTlsPort, int startTlsPort)
    {
        var endpoints = new List<MailServerEndpoint>();
        if (implicitTlsPort != 0)
        {
            endpoints.Add(new(protocol, hostName, implicitTlsPort, TransportSecurity.ImplicitTls));
        }
        if (startTlsPort != 0)
        {
            endpoints.Add(new(protocol, hostName, startTlsPort, TransportSecurity.StartTls));
        }
        return endpoints;
    }
}
