using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>SQLite: no process is told of another's change, so the watcher reads the log at every timeout.</summary>
public sealed class PolledMailboxChangeSignal(TimeProvider clock) : IMailboxChangeSignal
{
    public bool IsLive => false;

    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await Task.Delay(timeout, clock, cancellationToken);
        return false;
    }
}
