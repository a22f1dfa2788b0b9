using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MailAuth.Core.Authentication;
using MailAuth.Server.Sasl;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web;

/// <summary>
/// The proof that a request comes from a mailbox's holder: the address and password go through
/// the SASL login adapter like an IMAP LOGIN (<see cref="LoginChannel.Web"/>), so the same throttle,
/// the same log line and the same single failure for an unknown address and a wrong password.
/// </summary>
internal sealed class MailboxHolder(MailAuthenticator authenticator)
{
    private readonly SaslLogin _login = new(authenticator);

    /// <summary>Sizes are bounded before this: the request's header and body limits (<c>MailAuth:Web</c>), then the authenticator's own.</summary>
    public Task<SaslLoginOutcome> VerifyAsync(HttpContext context, string mechanism, string address, string password)
    {
        var client = new ClientContext(LoginChannel.Web, mechanism, context.Connection.RemoteIpAddress ?? IPAddress.IPv6None, context.Request.IsHttps);
        return _login.VerifyAsync(address, password, client, context.RequestAborted);
    }

    /// <summary>
    /// The address and password of an <c>Authorization: Basic</c> header (RFC 7617, UTF-8 as the
    /// challenge announces), or null when there is none or it is malformed.
    /// </summary>
    public static (string Address, string Password)? BasicCredentials(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return null;
        }
        var bytes = new byte[(header.Parameter.Length + 3) / 4 * 3];
        if (!Convert.TryFromBase64String(header.Parameter, bytes, out var length))
        {
            return null;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : (text[..colon], text[(colon + 1)..]);
    }

    /// <summary>The challenge that makes a browser ask for the address and password (RFC 7617 §2.1 charset).</summary>
    public static void Challenge(HttpResponse response) =>
        response.Headers.WWWAuthenticate = "Basic realm=\"Mailbox address and password\", charset=\"UTF-8\"";
}
