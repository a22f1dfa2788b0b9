using System.Runtime.InteropServices;
using MailAuth.Server.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Tls;

/// <summary>
/// Serves a replaced certificate without a restart: on SIGHUP (<c>systemctl reload</c>), and when
/// the files of <c>MailAuth:Tls:CertificateFile</c>/<c>KeyFile</c> change on disk.
/// </summary>
/// <remarks>
/// The directories are watched, not the files: certbot renews by writing new files into its
/// archive and pointing the symlinks of <c>live/</c> at them, and other tools rename a new file
/// over the old one; either replaces the directory entry, which a watch on the file would miss.
/// The changes of one renewal (certificate, chain, key) come as a burst, so a reload waits until
/// the directory has been quiet for <see cref="Quiet"/>.
/// </remarks>
internal sealed partial class CertificateReloader(MailAuthOptions options, CertificateProvider certificates, ILogger<CertificateReloader> logger)
    : IHostedService, IDisposable
{
    internal static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private readonly List<FileSystemWatcher> _watchers = [];
    private PosixSignalRegistration? _hangUp;
    private Timer? _debounce;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // SIGHUP's default action ends the process.
            ThreadPool.QueueUserWorkItem(_ => certificates.Reload("SIGHUP"));
        });
        var tls = options.Tls;
        if (!string.IsNullOrEmpty(tls.CertificateFile))
        {
            _debounce = new Timer(_ => certificates.Reload("a change of its files"));
            var directories = new[] { tls.CertificateFile, tls.KeyFile }
                .Select(file => Path.GetDirectoryName(Path.GetFullPath(file))!)
                .Distinct(StringComparer.Ordinal);
            foreach (var directory in directories)
            {
                Watch(directory);
            }
        }
        return Task.CompletedTask;
    }

    private void Watch(string directory)
    {
        try
        {
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            watcher.Changed += (_, _) => Schedule();
            watcher.Created += (_, _) => Schedule();
            watcher.Renamed += (_, _) => Schedule();
            watcher.Deleted += (_, _) => Schedule();
            watcher.Error += (_, e) => LogWatchFailed(directory, e.GetException().Message);
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
            LogWatching(directory);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // inotify watches are limited (fs.inotify.max_user_watches); SIGHUP still works.
            LogWatchFailed(directory, e.Message);
        }
    }

    private void Schedule()
    {
        try
        {
            _debounce?.Change(Quiet, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // An event that arrived while the server stops.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _hangUp?.Dispose();
        _hangUp = null;
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }
        _watchers.Clear();
        _debounce?.Dispose();
        _debounce = null;
    }

    [LoggerMessage(EventId = 37, Level = LogLevel.Information, Message = "tls: watching {Directory} for a renewed certificate (SIGHUP reloads it too)")]
    private partial void LogWatching(string directory);

    [LoggerMessage(EventId = 38, Level = LogLevel.Warning, Message = "tls: cannot watch {Directory} for a renewed certificate ({Problem}): send SIGHUP after renewing")]
    private partial void LogWatchFailed(string directory, string problem);
}
