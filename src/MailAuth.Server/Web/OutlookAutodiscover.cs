using System.Globalization;
using System.Xml.Linq;
using MailAuth.Core.Addresses;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web;

/// <summary>
/// Outlook's Autodiscover "POX" (plain old XML, [MS-OXDISCO]): <c>POST /autodiscover/autodiscover.xml</c>
/// (any case: Outlook sends <c>/Autodiscover/Autodiscover.xml</c> and <c>/AutoDiscover/AutoDiscover.xml</c>)
/// with the request schema's <c>EMailAddress</c> and <c>AcceptableResponseSchema</c>; the answer is the
/// <c>outlook</c> response schema with one IMAP and one SMTP <c>Protocol</c> (Outlook uses the first
/// of each type). A request it cannot answer gets the error response Exchange gives, which Outlook
/// reads as "not here" and moves on; a domain not hosted here gets 404 like every set-up look-up.
/// </summary>
internal static class OutlookAutodiscover
{
    public const string Path = "/autodiscover/autodiscover.xml";

    public static readonly XNamespace RequestSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
    public static readonly XNamespace ResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
    public static readonly XNamespace OutlookResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

    public static async Task AnswerAsync(HttpContext context, HostedDomainLookup domains, MailServerSettings settings, TimeProvider clock)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            // Exchange answers a GET (Outlook probes with one) with 600 too.
            await ErrorAsync(context, settings, clock, 600, "Invalid Request");
            return;
        }
        var request = (await XmlAnswer.ReadAsync(context))?.Root;
        var body = request?.Name == RequestSchema + "Autodiscover" ? request.Element(RequestSchema + "Request") : null;
        var address = body?.Element(RequestSchema + "EMailAddress")?.Value.Trim();
        var schema = body?.Element(RequestSchema + "AcceptableResponseSchema")?.Value.Trim();
        if (address is null || !AddressNormalizer.TryNormalize(address, out var parsed, out _))
        {
            await ErrorAsync(context, settings, clock, 600, "Invalid Request");
            return;
        }
        if (schema != OutlookResponseSchema.NamespaceName)
        {
            // Mobile (ActiveSync, "mobilesync" schema) and other providers: not offered here.
            await ErrorAsync(context, settings, clock, 601, "Provider is not available for the requested schema");
            return;
        }
        if (await domains.HostedAsync(parsed.Domain, context.RequestAborted) is null)
        {
            await WebAnswers.NotFoundAsync(context);
            return;
        }
        await XmlAnswer.WriteAsync(context, Settings(parsed, settings), "text/xml; charset=utf-8");
    }

    /// <summary>The <c>outlook</c> response: the mailbox's own address as <c>LoginName</c>, no SPA (NTLM), authentication required.</summary>
    public static XDocument Settings(EmailAddress address, MailServerSettings settings)
    {
        var account = new XElement(OutlookResponseSchema + "Account",
            new XElement(OutlookResponseSchema + "AccountType", "email"),
            new XElement(OutlookResponseSchema + "Action", "settings"));
        if (settings.Imap.Count > 0)
        {
            account.Add(Protocol("IMAP", settings.Imap[0], address));
        }
        if (settings.Submission.Count > 0)
        {
            var smtp = Protocol("SMTP", settings.Submission[0], address);
            smtp.Add(new XElement(OutlookResponseSchema + "UsePOPAuth", "off"), new XElement(OutlookResponseSchema + "SMTPLast", "off"));
            account.Add(smtp);
        }
        return new XDocument(
            new XDeclaration("1.0", "utf-8", null),
            new XElement(ResponseSchema + "Autodiscover",
                new XElement(OutlookResponseSchema + "Response",
                    new XElement(OutlookResponseSchema + "User", new XElement(OutlookResponseSchema + "DisplayName", address.ToString())),
                    account)));
    }

    private static XElement Protocol(string type, MailServerEndpoint endpoint, EmailAddress address)
    {
        var protocol = new XElement(OutlookResponseSchema + "Protocol",
            new XElement(OutlookResponseSchema + "Type", type),
            new XElement(OutlookResponseSchema + "Server", endpoint.HostName),
            new XElement(OutlookResponseSchema + "Port", endpoint.Port.ToString(CultureInfo.InvariantCulture)),
            new XElement(OutlookResponseSchema + "DomainRequired", "off"),
            new XElement(OutlookResponseSchema + "LoginName", address.ToString()),
            new XElement(OutlookResponseSchema + "SPA", "off"),
            new XElement(OutlookResponseSchema + "SSL", "on"));
        if (endpoint.Security == TransportSecurity.StartTls)
        {
            // Encryption overrides SSL: TLS is STARTTLS on the plain port; SSL alone means implicit TLS.
            protocol.Add(new XElement(OutlookResponseSchema + "Encryption", "TLS"));
        }
        protocol.Add(new XElement(OutlookResponseSchema + "AuthRequired", "on"));
        return protocol;
    }

    /// <summary>
    /// [MS-OXDISCO] §2.2.4.1.1.1.1: <c>Error</c> with <c>Time</c>, <c>Id</c> (a number naming this
    /// server), <c>ErrorCode</c> (600 invalid request, 601 provider not available), <c>Message</c>, <c>DebugData</c>.
    /// </summary>
    private static Task ErrorAsync(HttpContext context, MailServerSettings settings, TimeProvider clock, int code, string message)
    {
        var document = new XDocument(
            new XDeclaration("1.0", "utf-8", null),
            new XElement(ResponseSchema + "Autodiscover",
                new XElement(ResponseSchema + "Response",
                    new XElement(ResponseSchema + "Error",
                        new XAttribute("Time", clock.GetUtcNow().ToString("HH:mm:ss.fffffff", CultureInfo.InvariantCulture)),
                        new XAttribute("Id", ServerId(settings.HostName).ToString(CultureInfo.InvariantCulture)),
                        new XElement(ResponseSchema + "ErrorCode", code.ToString(CultureInfo.InvariantCulture)),
                        new XElement(ResponseSchema + "Message", message),
                        new XElement(ResponseSchema + "DebugData")))));
        return XmlAnswer.WriteAsync(context, document, "text/xml; charset=utf-8");
    }

    /// <summary>A stable number for this host name (Exchange puts a hash of its server name there).</summary>
    private static uint ServerId(string hostName) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(hostName.ToLowerInvariant())));
}
