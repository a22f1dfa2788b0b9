using System.Globalization;
using System.Net;
using System.Text;
using MailAuth.Core.Addresses;

namespace MailAuth.Server.Smtp.Delivery;

/// <summary>
/// The trace header added to every accepted message (RFC 5321 §4.4), naming the client, the
/// authenticated mailbox and the TLS parameters; protocol ESMTPSA or ESMTPA as RFC 3848 defines.
/// </summary>
internal static class ReceivedHeader
{
    public static string Build(
        string clientName, IPAddress clientAddress, string hostName, EmailAddress authenticated, string? tls, string id, DateTimeOffset now)
    {
        var builder = new StringBuilder(256);
        builder.Append("Received: from ").Append(SafeName(clientName)).Append(" ([").Append(clientAddress).Append("])\r\n");
        builder.Append("\tby ").Append(hostName).Append(" (MailAuth) with ").Append(tls is null ? "ESMTPA" : "ESMTPSA");
        if (tls is not null)
        {
            builder.Append(" (").Append(tls).Append(')');
        }
        builder.Append("\r\n\t(authenticated as ").Append(authenticated).Append(")\r\n");
        builder.Append("\tid ").Append(id).Append("; ").Append(FormatDate(now)).Append("\r\n");
        return builder.ToString();
    }

    /// <summary>RFC 5322 §3.3 date-time, in UTC.</summary>
    public static string FormatDate(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("ddd, d MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture);

    /// <summary>The EHLO name is the client's claim: only name and address-literal characters are copied.</summary>
    private static string SafeName(string name)
    {
        var builder = new StringBuilder(Math.Min(name.Length, 255));
        foreach (var c in name.Take(255))
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '[' or ']' or ':' ? c : '?');
        }
        return builder.Length == 0 ? "unknown" : builder.ToString();
    }
}
