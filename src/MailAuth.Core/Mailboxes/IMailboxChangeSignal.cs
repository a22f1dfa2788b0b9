namespace MailAuth.Core.Mailboxes;

/// <summary>
/// Tells a server's change-log watcher when to read the log again. On PostgreSQL each committed
/// change is pushed to every node (LISTEN/NOTIFY); on SQLite nothing is pushed and the watcher
/// polls. A push only wakes the reader early: the log itself stays the truth, so a lost
/// notification delays a change until the next read, never hides it.
/// </summary>
public interface IMailboxChangeSignal
{
    /// <summary>Whether changes are being pushed now; when false, only reading the log finds them.</summary>
    bool IsLive { get; }

    /// <summary>
    /// Waits until a change may have been committed (a notification, or the push channel was
    /// (re)opened and changes may have been missed meanwhile) or until <paramref name="timeout"/>.
    /// Returns true when the log should be read at once.
    /// </summary>
    Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken);
}
