using System.Globalization;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Nodes;

/// <summary>
/// The files of <c>mailbox move</c>: the Maildir set aside under <c>DATA/moved/</c> (nothing is
/// deleted: the operator removes it), copied whole to the target data directory (every folder, its
/// <c>mailauth-uidlist</c> index with UIDs and flags, keywords, subscriptions; tmp/ left empty),
/// each file and directory synced, modification times kept (they are INTERNALDATE), and counted.
/// </summary>
internal static class MaildirCopy
{
    /// <summary><c>DATA/mail/DOMAIN/LOCAL</c> of <paramref name="address"/> under <paramref name="dataDirectory"/>.</summary>
    public static string InboxPath(string dataDirectory, EmailAddress address) =>
        Path.Combine(Path.GetFullPath(dataDirectory), "mail", address.Domain, MaildirLocator.EncodeLocalPart(address.LocalPart));

    /// <summary>Renames the Maildir to <c>DATA/moved/DOMAIN/LOCAL.TIMESTAMP</c>; null when it has none (no mail yet).</summary>
    public static string? SetAside(string dataDirectory, EmailAddress address, DateTimeOffset now)
    {
        var source = InboxPath(dataDirectory, address);
        if (!Directory.Exists(source))
        {
            return null;
        }
        var name = $"{MaildirLocator.EncodeLocalPart(address.LocalPart)}.{now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
        var target = Path.Combine(Path.GetFullPath(dataDirectory), "moved", address.Domain, name);
        for (var n = 2; Directory.Exists(target); n++)
        {
            target = Path.Combine(Path.GetFullPath(dataDirectory), "moved", address.Domain, $"{name}.{n}");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.Move(source, target);
        return target;
    }

    /// <summary>The messages (files in cur/ and new/ of the INBOX and of every <c>.Folder</c>) and their bytes; nothing when <paramref name="root"/> does not exist.</summary>
    public static MaildirContents Count(string root)
    {
        long messages = 0, bytes = 0;
        foreach (var file in MessageFiles(root))
        {
            messages++;
            bytes += file.Length;
        }
        return new MaildirContents(messages, bytes);
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="target"/> (which must hold no message yet).</summary>
    public static void Copy(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in new DirectoryInfo(source).EnumerateFiles())
        {
            CopyFile(file, Path.Combine(target, file.Name));
        }
        foreach (var directory in new DirectoryInfo(source).EnumerateDirectories())
        {
            if (directory.Name == "tmp")
            {
                // Half-written deliveries are not messages; a Maildir still needs the directory.
                Directory.CreateDirectory(Path.Combine(target, "tmp"));
                continue;
            }
            Copy(directory.FullName, Path.Combine(target, directory.Name));
        }
        MaildirDelivery.SyncDirectory(target);
    }

    /// <summary>
    /// Messages that reached <paramref name="root"/> after it was set aside (an IMAP session on the
    /// old node that re-created it): each is moved into the same folder's new/ at <paramref name="target"/>
    /// (its flags are lost, the message is not). Returns how many.
    /// </summary>
    public static int CarryLateArrivals(string root, string target)
    {
        var carried = 0;
        foreach (var file in MessageFiles(root).ToList())
        {
            var folder = Path.GetRelativePath(root, file.Directory!.Parent!.FullName);
            var newPath = Path.Combine(target, folder, "new");
            MaildirDelivery.EnsureMaildir(Path.Combine(target, folder));
            CopyFile(file, Path.Combine(newPath, file.Name));
            MaildirDelivery.SyncDirectory(newPath);
            file.Delete();
            carried++;
        }
        return carried;
    }

    private static IEnumerable<FileInfo> MessageFiles(string root)
    {
        if (!Directory.Exists(root))
        {
            yield break;
        }
        var folders = new List<DirectoryInfo> { new(root) };
        folders.AddRange(new DirectoryInfo(root).EnumerateDirectories(".*"));
        foreach (var folder in folders)
        {
            foreach (var sub in new[] { "cur", "new" })
            {
                var path = Path.Combine(folder.FullName, sub);
                if (!Directory.Exists(path))
                {
                    continue;
                }
                foreach (var file in new DirectoryInfo(path).EnumerateFiles())
                {
                    yield return file;
                }
            }
        }
    }

    private static void CopyFile(FileInfo source, string target)
    {
        using (var input = source.OpenRead())
        using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
        {
            input.CopyTo(output);
            DurableFile.FlushToDisk(output);
        }
        File.SetLastWriteTimeUtc(target, source.LastWriteTimeUtc);
    }
}
