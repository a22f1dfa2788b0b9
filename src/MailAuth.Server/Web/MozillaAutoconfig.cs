using System.Globalization;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web;

/// <summary>
/// Thunderbird's autoconfig (clientConfig version 1.1, the format of Mozilla's ISPDB):
/// <c>/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=…</c> on the domain, and
/// <c>/mail/config-v1.1.xml</c> on <c>autoconfig.DOMAIN</c>, also over plain HTTP since Thunderbird
/// tries that. K-9/Thunderbird for Android and Evolution read the same document.
/// </summary>
internal static class MozillaAutoconfig
{
    public const string WellKnownPath = "/.well-known/autoconfig/mail/config-v1.1.xml";
    public const string AutoconfigHostPath = "/mail/config-v1.1.xml";

    public static async Task AnswerAsync(HttpContext context, HostedDomainLookup domains, MailServerSettings settings)
    {
        var address = context.Request.Query["emailaddress"].ToString();
        var domain = await domains.HostedAsync(HostedDomainLookup.DomainOf(address, context.Request.Host.Host), context.RequestAborted);
        if (domain is null)
        {
            // A malformed address, a domain not hosted here and one that does not exist: one answer.
            await WebAnswers.NotFoundAsync(context);
            return;
        }
        await XmlAnswer.WriteAsync(context, Document(domain, settings), "text/xml; charset=utf-8");
    }

    /// <summary>
    /// The fields Thunderbird reads: for each server its type, hostname, port, socketType (SSL or
    /// STARTTLS), username (<c>%EMAILADDRESS%</c>, which the client fills in) and authentication
    /// (<c>password-cleartext</c>: PLAIN or LOGIN inside TLS).
    /// </summary>
    public static XDocument Document(string domain, MailServerSettings settings)
    {
        var provider = new XElement("emailProvider",
            new XAttribute("id", domain),
            new XElement("domain", domain),
            new XElement("displayName", domain),
            new XElement("displayShortName", domain));
        provider.Add(settings.Imap.Select(endpoint => Server("incomingServer", "imap", endpoint)));
        provider.Add(settings.Submission.Select(endpoint => Server("outgoingServer", "smtp", endpoint)));
        return new XDocument(
            new XDeclaration("1.0", "utf-8", null),
            new XElement("clientConfig", new XAttribute("version", "1.1"), provider));
    }

    private static XElement Server(string element, string type, MailServerEndpoint endpoint) =>
        new(element,
            new XAttribute("type", type),
            new XElement("hostname", endpoint.HostName),
            new XElement("port", endpoint.Port.ToString(CultureInfo.InvariantCulture)),
            new XElement("socketType", endpoint.Security == TransportSecurity.ImplicitTls ? "SSL" : "STARTTLS"),
            new XElement("username", "%EMAILADDRESS%"),
            new XElement("authentication", "password-cleartext"));
}
