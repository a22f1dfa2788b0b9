namespace MailAuth.Server.Maildir;

/// <summary>Files that must be on disk before a reply says they are stored (a delivered or appended message, a spooled literal).</summary>
internal static class DurableFile
{
    /// <summary>
    /// fsync(2). .NET has no asynchronous flush to disk: <see cref="Stream.FlushAsync()"/> stops at
    /// the kernel's cache, so the call blocks this thread-pool thread for the disk's write.
    /// </summary>
    public static void FlushToDisk(FileStream file)
    {
#pragma warning disable CA1849 // FlushAsync would not reach the disk.
        file.Flush(flushToDisk: true);
#pragma warning restore CA1849
    }
}
