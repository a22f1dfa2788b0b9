using System.Runtime.InteropServices;

namespace MailAuth.Server.Maildir;

/// <summary>
/// Directory creation inside a mailbox, one level at a time. Only a login and local delivery may
/// create a mailbox's root (<see cref="MaildirDelivery.EnsureMaildir"/>); everything a session does
/// afterwards creates directories with mkdir(2), never their parents, so that a session of a
/// removed mailbox fails instead of bringing its Maildir back (for the next owner of the address
/// to find). <see cref="Directory.CreateDirectory(string)"/> would create every missing parent.
/// </summary>
internal static partial class MaildirDirectories
{
    private const int EEXIST = 17;
    private const int ENOENT = 2;

    /// <summary>Mail is private to the server's user.</summary>
    private const int Mode = 0b111_000_000;

    /// <summary>A folder directory and its tmp, new and cur; its parent (the mailbox root) must exist.</summary>
    public static void CreateFolder(string path)
    {
        CreateOne(path);
        CreateSubdirectories(path);
    }

    /// <summary>The tmp, new and cur of an existing folder directory (one made by another Maildir tool may lack some).</summary>
    public static void CreateSubdirectories(string path)
    {
        foreach (var sub in new[] { "tmp", "new", "cur" })
        {
            CreateOne(Path.Combine(path, sub));
        }
    }

    private static void CreateOne(string path)
    {
        if (MakeDirectory(path, Mode) == 0)
        {
            return;
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST && Directory.Exists(path))
        {
            return;
        }
        throw errno == ENOENT
            ? new DirectoryNotFoundException($"cannot create {path}: the mailbox directory is gone")
            : new IOException($"cannot create {path} (errno {errno})");
    }

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeDirectory(string path, int mode);
}
