using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Server.Maildir;

/// <summary>
/// The one <see cref="MaildirFolder"/> per folder directory in this process, so that every
/// session (and every store opened on the same Maildir) shares its lock and state.
/// </summary>
internal sealed class MaildirFolders(ILogger<MaildirFolders>? logger = null)
{
    private readonly ConcurrentDictionary<string, MaildirFolder> _folders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lock> _mailboxGates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MailboxSignal> _signals = new(StringComparer.Ordinal);

    /// <summary>
    /// The lock that every session on the mailbox at <paramref name="root"/> takes to change its
    /// mailbox-wide files (subscriptions, the first-login set-up).
    /// </summary>
    public Lock MailboxGate(string root) => _mailboxGates.GetOrAdd(Path.GetFullPath(root), _ => new Lock());

    /// <summary>The changes to the mailbox at <paramref name="root"/> made in this process (<see cref="MailboxSignal"/>).</summary>
    public MailboxSignal Signal(string root) => _signals.GetOrAdd(Path.GetFullPath(root), _ => new MailboxSignal());

    /// <summary>The watches on selected folders' new/ (<see cref="NewMailWatchers"/>).</summary>
    public NewMailWatchers Watchers { get; } = new(logger ?? (ILogger)NullLogger.Instance);

    public MaildirFolder Get(string path)
    {
        var full = Path.GetFullPath(path);
        return _folders.GetOrAdd(full, p => new MaildirFolder(p, Signal(MailboxRoot(p))));
    }

    /// <summary>The mailbox a folder directory belongs to: INBOX is the root, any other folder a ".name" directory in it.</summary>
    private static string MailboxRoot(string folderPath) =>
        Path.GetFileName(folderPath).StartsWith('.') ? Path.GetDirectoryName(folderPath)! : folderPath;

    /// <summary>
    /// Drops the state of a folder (and its sub-folders) about to be deleted or renamed; the caller
    /// wakes the returned folders' waiting sessions (IDLE) once it is gone, so they find it gone at once.
    /// </summary>
    public List<MaildirFolder> Forget(string path)
    {
        var forgotten = new List<MaildirFolder>();
        var full = Path.GetFullPath(path);
        foreach (var key in _folders.Keys)
        {
            if (key == full || key.StartsWith(full + ".", StringComparison.Ordinal))
            {
                if (_folders.TryRemove(key, out var folder))
                {
                    forgotten.Add(folder);
                }
            }
        }
        return forgotten;
    }
}
