using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.AuthHttp;

/// <summary>The mail protocol nginx is proxying (its <c>Auth-Protocol</c> header).</summary>
internal enum MailProxyProtocol
{
    Imap,
    Pop3,
    Smtp,
}

/// <summary>
/// One question from nginx's mail proxy (ngx_mail_auth_http_module): may this user log in with
/// this password, and where is the mailbox? Only <c>Auth-Method: plain</c> carries a password
/// that can be checked against an Argon2id hash; <c>apop</c> and <c>cram-md5</c> would need the
/// password stored in clear, so they are refused.
/// </summary>
internal sealed record NginxAuthRequest(
    string User,
    string Password,
    MailProxyProtocol Protocol,
    int LoginAttempt,
    IPAddress ClientAddress,
    bool Secured)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The request, or why it cannot be answered (a sentence naming the header).</summary>
    public static NginxAuthRequest? Parse(IHeaderDictionary headers, out MailProxyProtocol? protocol, out string error)
    {
        protocol = null;
        if (!TryGetSingle(headers, "Auth-Protocol", out var protocolText, out error))
        {
            return null;
        }
        protocol = protocolText.ToLowerInvariant() switch
        {
            "imap" => MailProxyProtocol.Imap,
            "pop3" => MailProxyProtocol.Pop3,
            "smtp" => MailProxyProtocol.Smtp,
            _ => null,
        };
        if (protocol is null)
        {
            error = "Auth-Protocol must be imap, pop3 or smtp";
            return null;
        }
        if (!TryGetSingle(headers, "Auth-Method", out var method, out error))
        {
            return null;
        }
        if (!method.Equals("plain", StringComparison.OrdinalIgnoreCase))
        {
            error = $"Auth-Method {Printable(method)} is not supported (only plain: passwords are stored as Argon2id hashes)";
            return null;
        }
        if (!TryGetSingle(headers, "Auth-User", out var escapedUser, out error)
            || !TryGetSingle(headers, "Auth-Pass", out var escapedPassword, out error)
            || !TryGetSingle(headers, "Auth-Login-Attempt", out var attemptText, out error)
            || !TryGetSingle(headers, "Client-IP", out var clientText, out error))
        {
            return null;
        }
        if (!TryUnescape(escapedUser, out var user))
        {
            error = "Auth-User is not URL-escaped UTF-8";
            return null;
        }
        if (user.Length == 0)
        {
            error = "Auth-User is empty";
            return null;
        }
        if (!TryUnescape(escapedPassword, out var password))
        {
            error = "Auth-Pass is not URL-escaped UTF-8";
            return null;
        }
        if (!int.TryParse(attemptText, NumberStyles.None, CultureInfo.InvariantCulture, out var attempt) || attempt < 1)
        {
            error = "Auth-Login-Attempt must be a positive number";
            return null;
        }
        if (!IPAddress.TryParse(clientText, out var client))
        {
            error = "Client-IP must be an IP address";
            return null;
        }
        // Auth-SSL is sent only when the client's connection to nginx is TLS (implicit or STARTTLS).
        var secured = headers.TryGetValue("Auth-SSL", out var ssl) && ssl.Count == 1 && string.Equals(ssl[0], "on", StringComparison.OrdinalIgnoreCase);
        error = "";
        return new NginxAuthRequest(user, password, protocol.Value, attempt, client, secured);
    }

    /// <summary>Exactly one value: a header given twice could be one from nginx and one smuggled in by a client.</summary>
    private static bool TryGetSingle(IHeaderDictionary headers, string name, out string value, out string error)
    {
        value = "";
        if (!headers.TryGetValue(name, out var values) || values.Count == 0)
        {
            error = $"the {name} header is missing";
            return false;
        }
        if (values.Count > 1)
        {
            error = $"the {name} header is given more than once";
            return false;
        }
        value = values[0] ?? "";
        error = "";
        return true;
    }

    /// <summary>
    /// nginx %-escapes the user name's and password's spaces, % and control bytes
    /// (NGX_ESCAPE_MAIL_AUTH) and passes other bytes as they are, read here as Latin-1 chars
    /// (one per byte); the bytes are the client's, decoded as UTF-8.
    /// </summary>
    public static bool TryUnescape(string escaped, out string text)
    {
        text = "";
        var bytes = new byte[escaped.Length];
        var length = 0;
        for (var i = 0; i < escaped.Length; i++)
        {
            var c = escaped[i];
            if (c == '%')
            {
                if (i + 2 >= escaped.Length || !char.IsAsciiHexDigit(escaped[i + 1]) || !char.IsAsciiHexDigit(escaped[i + 2]))
                {
                    return false;
                }
                bytes[length++] = (byte)((HexValue(escaped[i + 1]) << 4) | HexValue(escaped[i + 2]));
                i += 2;
            }
            else if (c > '\xff' || c < '\x20' || c == '\x7f')
            {
                return false;
            }
            else
            {
                bytes[length++] = (byte)c;
            }
        }
        try
        {
            text = StrictUtf8.GetString(bytes, 0, length);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static string Printable(string text) =>
        text.Length > 32 || text.Any(c => c is < '\x20' or > '\x7e') ? "(unprintable)" : "'" + text + "'";
}
