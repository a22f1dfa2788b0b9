using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using MailAuth.Core.Addresses;

namespace MailAuth.Server.Web;

/// <summary>
/// An Apple configuration profile (<c>.mobileconfig</c>, a property list) with one
/// <c>com.apple.mail.managed</c> payload for a mailbox, for Mail on iOS, iPadOS and macOS. Its
/// identifiers are derived from the server and the address, so downloading it again replaces the
/// installed profile instead of adding a second account.
/// </summary>
internal static class AppleProfile
{
    public const string Path = "/apple/mailbox.mobileconfig";
    public const string ContentType = "application/x-apple-aspen-config";

    /// <param name="password">Put in the profile only when the holder asks for it; otherwise Mail asks for it once.</param>
    public static byte[] Create(EmailAddress address, MailServerSettings settings, string? password)
    {
        // Reverse-DNS letters only: the address goes in as a hash.
        var identifier = "mailauth." + string.Join('.', settings.HostName.ToLowerInvariant().Split('.').Reverse()) + ".mailbox-"
            + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(address.ToString())).AsSpan(0, 8));
        var imap = settings.Imap[0];
        var smtp = settings.Submission[0];
        var mail = new List<(string, XElement)>
        {
            ("EmailAccountDescription", String(address.ToString())),
            ("EmailAccountName", String(address.ToString())),
            ("EmailAccountType", String("EmailTypeIMAP")),
            ("EmailAddress", String(address.ToString())),
            ("IncomingMailServerAuthentication", String("EmailAuthPassword")),
            ("IncomingMailServerHostName", String(imap.HostName)),
            ("IncomingMailServerPortNumber", Integer(imap.Port)),
            // On a STARTTLS port too: Mail then requires STARTTLS.
            ("IncomingMailServerUseSSL", new XElement("true")),
            ("IncomingMailServerUsername", String(address.ToString())),
            ("OutgoingMailServerAuthentication", String("EmailAuthPassword")),
            ("OutgoingMailServerHostName", String(smtp.HostName)),
            ("OutgoingMailServerPortNumber", Integer(smtp.Port)),
            ("OutgoingMailServerUseSSL", new XElement("true")),
            ("OutgoingMailServerUsername", String(address.ToString())),
            ("OutgoingPasswordSameAsIncomingPassword", new XElement("true")),
        };
        if (password is not null)
        {
            mail.Add(("IncomingPassword", String(password)));
        }
        mail.AddRange(Payload("com.apple.mail.managed", identifier + ".mail", "Mail: " + address, "The IMAP and SMTP settings of " + address));
        var profile = new List<(string, XElement)>
        {
            ("PayloadContent", new XElement("array", Dictionary(mail))),
            ("PayloadRemovalDisallowed", new XElement("false")),
        };
        profile.AddRange(Payload("Configuration", identifier, address.ToString(), "Mail settings for " + address + " from " + settings.HostName));
        var document = new XDocument(
            new XDeclaration("1.0", "UTF-8", null),
            new XDocumentType("plist", "-//Apple//DTD PLIST 1.0//EN", "http://www.apple.com/DTDs/PropertyList-1.0.dtd", null),
            new XElement("plist", new XAttribute("version", "1.0"), Dictionary(profile)));
        using var buffer = new MemoryStream();
        using (var writer = System.Xml.XmlWriter.Create(buffer, new System.Xml.XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true }))
        {
            document.Save(writer);
        }
        return buffer.ToArray();
    }

    /// <summary>The keys every payload has; the UUID is a hash of the identifier (stable across downloads).</summary>
    private static IEnumerable<(string, XElement)> Payload(string type, string identifier, string displayName, string description) =>
    [
        ("PayloadDescription", String(description)),
        ("PayloadDisplayName", String(displayName)),
        ("PayloadIdentifier", String(identifier)),
        ("PayloadType", String(type)),
        ("PayloadUUID", String(StableUuid(identifier))),
        ("PayloadVersion", Integer(1)),
    ];

    private static XElement Dictionary(IEnumerable<(string Key, XElement Value)> entries) =>
        new("dict", entries.SelectMany(entry => new[] { new XElement("key", entry.Key), entry.Value }));

    private static XElement String(string value) => new("string", value);

    private static XElement Integer(int value) => new("integer", value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>An RFC 9562 version 8 UUID made of SHA-256 of <paramref name="name"/>.</summary>
    private static string StableUuid(string name)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString().ToUpperInvariant();
    }
}
