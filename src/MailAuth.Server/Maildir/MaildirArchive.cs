using System.Globalization;
using MailAuth.Core.Addresses;

namespace MailAuth.Server.Maildir;

/// <summary>
/// What happens to the mail of a removed mailbox: it is moved, whole, to
/// <c>DATA/removed/DOMAIN/LOCAL.TIMESTAMP/</c>. Nothing is deleted (the admin decides when), and a
/// mailbox later created with the same address starts empty instead of inheriting the mail.
/// </summary>
internal sealed class MaildirArchive(MaildirLocator locator, TimeProvider clock)
{
    public string RemovedRoot => Path.Combine(Path.GetDirectoryName(locator.MailRoot)!, "removed");

    /// <summary>Moves the mailbox's Maildir aside; returns where to, or null when it had no mail directory.</summary>
    public string? Archive(EmailAddress address)
    {
        var source = locator.InboxPath(address);
        if (!Directory.Exists(source))
        {
            return null;
        }
        var stamp = clock.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var target = Path.Combine(RemovedRoot, address.Domain, $"{MaildirLocator.EncodeLocalPart(address.LocalPart)}.{stamp}");
        for (var n = 2; Directory.Exists(target); n++)
        {
            target = Path.Combine(RemovedRoot, address.Domain, $"{MaildirLocator.EncodeLocalPart(address.LocalPart)}.{stamp}.{n}");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.Move(source, target);
        return target;
    }
}
