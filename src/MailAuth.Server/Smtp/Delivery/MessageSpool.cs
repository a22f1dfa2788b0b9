using MailAuth.Server.Hosting;

namespace MailAuth.Server.Smtp.Delivery;

/// <summary>
/// Temporary files for messages being received (<c>DATA/spool/</c>): a message is never held in
/// memory, and its file disappears when the transaction ends, whatever the outcome.
/// </summary>
internal sealed class MessageSpool
{
    /// <summary>Far longer than any transaction can last (idle timeouts are minutes), so a live file is never taken.</summary>
    private static readonly TimeSpan Abandoned = TimeSpan.FromDays(1);

    public MessageSpool(MailAuthOptions options, TimeProvider clock)
    {
        Directory = Path.Combine(options.DataDirectory, "spool");
        RemoveAbandoned(clock.GetUtcNow());
    }

    public string Directory { get; }

    public FileStream Create()
    {
        System.IO.Directory.CreateDirectory(Directory);
        return new FileStream(
            Path.Combine(Directory, Guid.NewGuid().ToString("N")),
            FileMode.CreateNew,
            FileAccess.ReadWrite,
            FileShare.None,
            64 * 1024,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
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
