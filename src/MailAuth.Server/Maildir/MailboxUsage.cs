namespace MailAuth.Server.Maildir;

/// <summary>
/// How many bytes a mailbox's messages take, every folder together (one quota root per mailbox).
/// Each folder's total is kept by its shared <see cref="MaildirFolder"/> as messages come and go,
/// and is brought in line with the directories the way any session's look is (a delivery by another
/// program, files removed behind our back), so a delivery costs a look at the mailbox's folder list
/// and two stat() per folder, never a read of every message. Chosen over Maildir++'s
/// <c>maildirsize</c> file: that is a journal every writer must append to and that is recounted
/// by a full scan whenever it grows or looks stale, while the folder index already knows each
/// message's size and notices other programs' changes.
/// </summary>
internal sealed class MailboxUsage(MaildirFolders folders)
{
    /// <summary>The bytes in the mailbox at <paramref name="root"/> (its INBOX directory); 0 when it has no Maildir yet.</summary>
    public long Bytes(string root)
    {
        if (!Directory.Exists(Path.Combine(root, "cur")))
        {
            return 0;
        }
        var bytes = folders.Get(root).Bytes;
        foreach (var directory in Directory.EnumerateDirectories(root, ".*"))
        {
            // Maildir++ folders: ".name" directories with a cur/ (a bare parent like ".a" of ".a.b" may have none).
            if (Directory.Exists(Path.Combine(directory, "cur")))
            {
                bytes += folders.Get(directory).Bytes;
            }
        }
        return bytes;
    }

    /// <summary>
    /// The same count without this process's shared folder state and without writing anything (the
    /// CLI, perhaps another user than the server's): each folder's index when cur/ is as the index last
    /// saw it, the files' sizes otherwise, and the files waiting in new/.
    /// </summary>
    public static long Peek(string root)
    {
        if (!Directory.Exists(Path.Combine(root, "cur")))
        {
            return 0;
        }
        var bytes = PeekFolder(root);
        foreach (var directory in Directory.EnumerateDirectories(root, ".*"))
        {
            if (Directory.Exists(Path.Combine(directory, "cur")))
            {
                bytes += PeekFolder(directory);
            }
        }
        return bytes;
    }

    private static long PeekFolder(string folder)
    {
        var cur = Path.Combine(folder, "cur");
        var index = new FolderIndexFile(folder).Read();
        var bytes = index is { Version: >= 3 } && index.CurStamp == MaildirFiles.Stamp(cur) && index.Messages.Values.All(m => m.Size is not null)
            ? index.Messages.Values.Sum(m => m.Size!.Value)
            : SizeOfFiles(cur);
        return bytes + SizeOfFiles(Path.Combine(folder, "new"));
    }

    private static long SizeOfFiles(string directory) =>
        Directory.Exists(directory) ? new DirectoryInfo(directory).EnumerateFiles().Sum(f => f.Length) : 0;
}
