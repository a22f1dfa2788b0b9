using MailAuth.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Smtp.Delivery;

/// <summary>
/// Temporary files for messages being received (<c>DATA/spool/</c>, 0600 in a 0700 directory): a
/// message is never held in memory, and its file disappears when the transaction ends, whatever
/// the outcome.
/// </summary>
internal sealed partial class MessageSpool
{
    public const string DirectoryName = "spool";

    /// <summary>Created once per <c>serve</c>, before anything listens; empties the spool.</summary>
    public MessageSpool(MailAuthOptions options, ILogger<MessageSpool> logger)
    {
        Directory = Path.Combine(options.DataDirectory, DirectoryName);
        var removed = RemoveLeftovers();
        if (removed > 0)
        {
            LogRemoved(logger, removed, Directory);
        }
    }

    public string Directory { get; }

    public FileStream Create()
    {
        System.IO.Directory.CreateDirectory(Directory, PrivateFiles.Directory);
        return new FileStream(Path.Combine(Directory, Guid.NewGuid().ToString("N")), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 64 * 1024,
            Options = FileOptions.Asynchronous | FileOptions.DeleteOnClose,
            UnixCreateMode = PrivateFiles.File,
        });
    }

    /// <summary>
    /// Files a killed or crashed server left (delete-on-close never ran). None of them was ever
    /// acknowledged with 250, and <c>serve</c> holds the data-directory lock, so no other server
    /// is writing one: every file goes.
    /// </summary>
    private int RemoveLeftovers()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }
        var removed = 0;
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles())
        {
            file.Delete();
            removed++;
        }
        return removed;
    }

    [LoggerMessage(EventId = 111, Level = LogLevel.Information,
        Message = "spool: removed {Count} message file(s) left by an interrupted delivery in {Directory}")]
    private static partial void LogRemoved(ILogger logger, int count, string directory);
}
