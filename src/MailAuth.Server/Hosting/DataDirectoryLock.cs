namespace MailAuth.Server.Hosting;

/// <summary>
/// Held by <c>mailauth serve</c> while it runs: one server per data directory. A second one would
/// replace the first's control socket and run its own folder locks and Maildir writes beside the
/// first's. The provisioning commands do not take it; SQLite's own locking covers them.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = "serve.lock";

    // EWOULDBLOCK from flock(2), which .NET uses for FileShare.None on Unix.
    private const int WouldBlock = 11;

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    /// <exception cref="IOException">Another server holds the lock, or the file cannot be created.</exception>
    public static DataDirectoryLock Acquire(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory, PrivateFiles.Directory);
        var path = Path.Combine(dataDirectory, FileName);
        try
        {
            return new DataDirectoryLock(new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = PrivateFiles.File,
            }));
        }
        catch (IOException e) when (e.HResult == WouldBlock)
        {
            throw new IOException($"another 'mailauth serve' is running on data directory {dataDirectory} ({path} is locked)", e);
        }
    }

    public void Dispose() => _file.Dispose();
}
