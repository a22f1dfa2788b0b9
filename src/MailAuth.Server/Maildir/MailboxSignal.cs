namespace MailAuth.Server.Maildir;

/// <summary>What happened to a mailbox's folder list or subscriptions.</summary>
internal enum MailboxEventKind
{
    Created,
    Deleted,
    Renamed,
    Subscribed,
    Unsubscribed,
}

/// <summary>One folder-list or subscription change; <see cref="Origin"/> is the store (the session) that made it.</summary>
internal sealed record MailboxEvent(long Sequence, MailboxEventKind Kind, string Name, string? OldName, object? Origin);

/// <summary>
/// The changes to one mailbox in this process, for the sessions that watch it (NOTIFY, RFC 5465):
/// a pulse whenever any of its folders changes (messages, flags, a delivery into new/), and the
/// last <see cref="Capacity"/> folder-list and subscription changes in order. A watcher that falls
/// further behind than that learns it lost some, and says so to its client.
/// </summary>
internal sealed class MailboxSignal
{
    public const int Capacity = 256;

    private readonly Lock _gate = new();
    private readonly Queue<MailboxEvent> _events = new();
    private long _lastSequence;
    private long _pulses;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>How many times the mailbox changed so far; pass it to <see cref="WaitAsync"/>.</summary>
    public long Pulses
    {
        get
        {
            lock (_gate)
            {
                return _pulses;
            }
        }
    }

    /// <summary>The sequence number of the last recorded event (0 before any).</summary>
    public long LastSequence
    {
        get
        {
            lock (_gate)
            {
                return _lastSequence;
            }
        }
    }

    /// <summary>Completes when the mailbox changes after <paramref name="pulses"/> (at once if it already has).</summary>
    public Task WaitAsync(long pulses, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _pulses != pulses ? Task.CompletedTask : _changed.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Something in a folder changed (messages, flags, a delivery).</summary>
    public void Pulse()
    {
        lock (_gate)
        {
            PulseLocked();
        }
    }

    /// <summary>Records a folder-list or subscription change, dropping the oldest beyond <see cref="Capacity"/>.</summary>
    public void Record(MailboxEventKind kind, string name, string? oldName, object? origin)
    {
        lock (_gate)
        {
            _events.Enqueue(new MailboxEvent(++_lastSequence, kind, name, oldName, origin));
            if (_events.Count > Capacity)
            {
                _events.Dequeue();
            }
            PulseLocked();
        }
    }

    /// <summary>The events after sequence <paramref name="after"/>; <c>Lost</c> when some of them were already dropped.</summary>
    public (List<MailboxEvent> Events, bool Lost) EventsAfter(long after)
    {
        lock (_gate)
        {
            var lost = after < _lastSequence && (_events.Count == 0 || _events.Peek().Sequence > after + 1);
            return ([.. _events.Where(e => e.Sequence > after)], lost);
        }
    }

    private void PulseLocked()
    {
        _pulses++;
        var signal = _changed;
        _changed = NewSignal();
        signal.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
