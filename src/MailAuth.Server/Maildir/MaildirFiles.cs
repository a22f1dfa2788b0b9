using System.IO.Enumeration;
using System.Runtime.InteropServices;

namespace MailAuth.Server.Maildir;

/// <summary>File-system calls the folder index needs that .NET does not offer cheaply: names without a stat each, hard links, a directory's change time.</summary>
internal static partial class MaildirFiles
{
    /// <summary>
    /// The names of the files in <paramref name="directory"/> from readdir alone (no lstat per file);
    /// names with a line break are left out: no Maildir writer makes them, and the index is line-based.
    /// </summary>
    public static HashSet<string> Names(string directory)
    {
        var names = new FileSystemEnumerable<string>(directory, (ref entry) => entry.FileName.ToString())
        {
            ShouldIncludePredicate = (ref entry) => !entry.IsDirectory && entry.FileName.IndexOfAny('\n', '\r') < 0,
        };
        return names.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The directory's modification time in ticks (0 when it is missing): it changes whenever a file
    /// is added to, renamed in or removed from it, which is all a Maildir tool does to cur/ and new/.
    /// </summary>
    public static long Stamp(string directory)
    {
        var info = new DirectoryInfo(directory);
        return info.Exists ? info.LastWriteTimeUtc.Ticks : 0;
    }

    /// <summary>
    /// A second name for <paramref name="source"/> (a message file is never changed, so COPY may share
    /// it, as Dovecot does); falls back to copying where links are refused (another file system, no permission).
    /// </summary>
    public static void LinkOrCopy(string source, string target)
    {
        if (Link(source, target) == 0)
        {
            return;
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno == ENOENT)
        {
            throw new FileNotFoundException("the message file is gone", source);
        }
        File.Copy(source, target);
    }

    private const int ENOENT = 2;

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string source, string target);
}
