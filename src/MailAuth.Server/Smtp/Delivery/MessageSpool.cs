using MailAuth.Server.Hosting;

namespace MailAuth.Server.Smtp.Delivery;

/// <summary>
/// Temporary files for messages being received (<c>DATA/spool/</c>, 0600 in a 0700 directory): a
/// message is never held in memory, and its file disappears when the transaction ends, whatever
/// the outcome.
/// </summary>
internal sealed class MessageSpool
{
    public const string DirectoryName = "spool";

    /// <summary>Far longer than any transaction can last (idle timeouts are minutes), so a live file is never taken.</summary>
    private static readonly TimeSpan Abandoned = TimeSpan.FromDays(1);

    public MessageSpool(MailAuthOptions options, TimeProvider clock)
    {
        Directory = Path.Combine(options.DataDirectory, DirectoryName);
        RemoveAbandoned(clock.GetUtcNow());
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

    /// <summary>Files left by a crash (delete-on-close never ran); none of them was ever acknowledged with 250.</summary>
    private void RemoveAbandoned(DateTimeOffset now)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return;
        }
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles())
        {
            if (now - file.LastWriteTimeUtc > Abandoned)
            {
                file.Delete();
            }
        }
    }
}
