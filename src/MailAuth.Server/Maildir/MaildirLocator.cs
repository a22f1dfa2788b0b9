using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Server.Hosting;

namespace MailAuth.Server.Maildir;

/// <summary>
/// Where a mailbox's mail lives: <c>DATA/mail/DOMAIN/LOCAL/</c>, a Maildir (cur, new, tmp) whose
/// sub-folders follow Maildir++ (<c>.Sent</c>, <c>.Archive.2024</c>).
/// </summary>
internal sealed class MaildirLocator(MailAuthOptions options)
{
    public string MailRoot => Path.Combine(options.DataDirectory, "mail");

    public string InboxPath(EmailAddress address) =>
        Path.Combine(MailRoot, address.Domain, EncodeLocalPart(address.LocalPart));

    /// <summary>
    /// A local part may hold '/', '%' and other characters a file name cannot or should not; those
    /// and all non-ASCII are written as %XX of their UTF-8 bytes, so the mapping is one-to-one.
    /// </summary>
    public static string EncodeLocalPart(string localPart)
    {
        var builder = new StringBuilder(localPart.Length);
        foreach (var b in Encoding.UTF8.GetBytes(localPart))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '+' or '=')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }
}
