using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Maildir;

/// <summary>
/// One watch on new/ of each folder that sessions have selected, shared by all of them: set up by
/// the first session, removed when the last one leaves. On Linux a <see cref="FileSystemWatcher"/>
/// is one inotify watch (.NET shares one inotify instance among all of them), so a thousand idling
/// sessions on one INBOX cost one watch, not a thousand. A file arriving in new/ (another
/// program's delivery, renamed in from tmp/) marks the folder (<see cref="MaildirFolder.Delivered"/>),
/// which wakes its IDLE and NOTIFY sessions at once. Where no watch can be set up (the user's
/// inotify limits, a file system without it) the sessions poll new/ as before.
/// </summary>
internal sealed partial class NewMailWatchers(ILogger logger)
{
    /// <summary>How often an IDLE session on a watched folder still reads it: for cur/ changed by another program, and a lost event.</summary>
    public static readonly TimeSpan SafetyPollInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private readonly Dictionary<MaildirFolder, Watch> _watches = [];
    private int _failureLogged;

    /// <summary>The folders watched now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _watches.Count;
            }
        }
    }

    /// <summary>A share of <paramref name="folder"/>'s watch, until disposed; <see cref="Lease.Watched"/> is false when polling must do.</summary>
    public Lease Acquire(MaildirFolder folder)
    {
        lock (_gate)
        {
            if (!_watches.TryGetValue(folder, out var watch))
            {
                watch = new Watch(folder);
                _watches[folder] = watch;
                if (watch.Failure is { } failure && Interlocked.Exchange(ref _failureLogged, 1) == 0)
                {
                    LogWatchFailed(logger, folder.NewPath, failure.Message);
                }
            }
            watch.Leases++;
            return new Lease(this, folder, watch.Watcher is not null);
        }
    }

    private void Release(MaildirFolder folder)
    {
        Watch? stopped = null;
        lock (_gate)
        {
            if (_watches.TryGetValue(folder, out var watch) && --watch.Leases == 0)
            {
                _watches.Remove(folder);
                stopped = watch;
            }
        }
        stopped?.Dispose();
    }

    [LoggerMessage(EventId = 1900, Level = LogLevel.Warning,
        Message = "cannot watch {Directory} for new mail ({Reason}); IDLE polls new/ instead (logged once)")]
    private static partial void LogWatchFailed(ILogger logger, string directory, string reason);

    private sealed class Watch : IDisposable
    {
        public Watch(MaildirFolder folder)
        {
            FileSystemWatcher? watcher = null;
            try
            {
                // FileName only: a message renamed into new/ is Created (tmp/ is not watched); the
                // server's own moves from new/ to cur/ are Deleted here and wake nobody.
                watcher = new FileSystemWatcher(folder.NewPath) { NotifyFilter = NotifyFilters.FileName, IncludeSubdirectories = false };
                watcher.Created += (_, _) => folder.Delivered();
                watcher.Renamed += (_, _) => folder.Delivered();
                // An overflowed or broken watch may have lost events: read new/ now rather than at the safety poll.
                watcher.Error += (_, _) => folder.Delivered();
                watcher.EnableRaisingEvents = true;
                Watcher = watcher;
                watcher = null;
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                Failure = e;
            }
            finally
            {
                watcher?.Dispose();
            }
        }

        /// <summary>The watch; null when it could not be set up (<see cref="Failure"/>).</summary>
        public FileSystemWatcher? Watcher { get; }

        public Exception? Failure { get; }

        public int Leases { get; set; }

        public void Dispose() => Watcher?.Dispose();
    }

    /// <summary>A session's share of a folder's watch; disposing it more than once releases it once.</summary>
    internal sealed class Lease(NewMailWatchers owner, MaildirFolder folder, bool watched) : IDisposable
    {
        private int _released;

        public MaildirFolder Folder { get; } = folder;

        /// <summary>True when new/ is watched; false when the watch could not be set up and only polling finds deliveries.</summary>
        public bool Watched { get; } = watched;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(Folder);
            }
        }
    }
}
