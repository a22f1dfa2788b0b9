using System.Runtime.InteropServices;
using MailAuth.Core.Storage;
using MailAuth.Server.Smtp.Delivery;
using MailAuth.Server.Tls;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Hosting;

/// <summary>
/// Everything MailAuth keeps is its own user's only: the data directory is 0700 and the files in it
/// 0600, whatever the umask of whoever started the program, and an install made before that promise
/// is tightened when <c>serve</c> starts.
/// </summary>
internal static partial class PrivateFiles
{
    public const UnixFileMode Directory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// The known entries at the top of the data directory. Nothing below them is visited: the data
    /// directory at 0700 already keeps other users out of every Maildir, and walking millions of
    /// messages at each start would cost minutes.
    /// </summary>
    private static readonly string[] KnownFiles =
    [
        SqliteDatabase.FileName,
        SqliteDatabase.FileName + "-wal",
        SqliteDatabase.FileName + "-shm",
        SqliteDatabase.FileName + "-journal",
        DataDirectoryLock.FileName,
        CertificateProvider.GeneratedKeyFile,
        CertificateProvider.GeneratedCertificateFile,
        Tls.Acme.AcmeFiles.AccountKeyFile,
        Tls.Acme.AcmeFiles.KeyFile,
        Tls.Acme.AcmeFiles.CertificateFile,
    ];

    private static readonly string[] KnownDirectories = ["mail", "removed", MessageSpool.DirectoryName, "tls", Tls.Acme.AcmeFiles.Directory];

    /// <summary>
    /// umask(077) for the whole process, so that every file and directory it creates (SQLite's
    /// database and its WAL and SHM files, Maildirs and messages, the spool, the certificate) is
    /// private even where the code names no mode. Called first thing, for every verb.
    /// </summary>
    public static void RestrictUmask() => _ = Umask(0b000_111_111);

    /// <summary>
    /// Leaves the data directory and its known entries their owner's permissions only (no group,
    /// other, setgid or sticky bits). Returns what changed, e.g. <c>mailauth.db 0644 -> 0600</c>;
    /// empty when all was private already.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">An entry belongs to another user.</exception>
    public static IReadOnlyList<string> Tighten(string dataDirectory)
    {
        var changes = new List<string>();
        TightenOne(dataDirectory, dataDirectory, changes);
        foreach (var name in KnownDirectories.Concat(KnownFiles))
        {
            TightenOne(dataDirectory, Path.Combine(dataDirectory, name), changes);
        }
        return changes;
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/>, readable by its owner only
    /// from the first byte on: written beside it and renamed over it, so that a reader (a
    /// certificate reload) sees the old file or the new one, never half of one.
    /// </summary>
    public static void Write(string path, string content)
    {
        var temporary = path + ".new";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = File,
        }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        System.IO.File.SetUnixFileMode(temporary, File);
        System.IO.File.Move(temporary, path, overwrite: true);
    }

    public static void LogTightened(ILogger logger, IReadOnlyList<string> changes)
    {
        if (changes.Count > 0)
        {
            LogTightenedModes(logger, string.Join(", ", changes));
        }
    }

    private static void TightenOne(string dataDirectory, string path, List<string> changes)
    {
        UnixFileMode mode;
        try
        {
            mode = System.IO.File.GetUnixFileMode(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }
        var owner = mode & (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (mode == owner)
        {
            return;
        }
        try
        {
            System.IO.File.SetUnixFileMode(path, owner);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException(
                $"cannot make {path} private (mode {Octal(mode)} -> {Octal(owner)}): it must belong to the user that runs mailauth serve", e);
        }
        var name = path == dataDirectory ? dataDirectory : Path.GetRelativePath(dataDirectory, path);
        changes.Add($"{name} {Octal(mode)} -> {Octal(owner)}");
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information,
        Message = "files: made private to the server's user (group and other permissions removed): {Changes}")]
    private static partial void LogTightenedModes(ILogger logger, string changes);
}
