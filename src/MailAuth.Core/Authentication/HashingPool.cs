using System.Collections.Concurrent;
using System.Diagnostics;
using MailAuth.Core.Observability;

namespace MailAuth.Core.Authentication;

/// <summary>
/// Runs Argon2 work on a fixed set of dedicated threads with a bounded queue, so that a flood of
/// logins costs a known amount of CPU and memory (each verification holds its m KiB) instead of
/// starving the I/O threads. When the queue is full the caller is told at once.
/// </summary>
public sealed class HashingPool : IDisposable
{
    private readonly BlockingCollection<IWorkItem> _queue;
    private readonly Thread[] _workers;
    private readonly MailAuthMetrics? _metrics;
    private int _busy;

    /// <param name="metrics">Where each job's wait for a worker is recorded; none in tools and tests.</param>
    public HashingPool(int workers, int maxQueued, MailAuthMetrics? metrics = null)
    {
        _metrics = metrics;
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueued, 1);
        _queue = new BlockingCollection<IWorkItem>(maxQueued);
        _workers = new Thread[workers];
        for (var i = 0; i < workers; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"argon2-{i}" };
            _workers[i].Start();
        }
    }

    public int Workers => _workers.Length;

    /// <summary>Jobs waiting for a worker.</summary>
    public int Queued => _queue.Count;

    /// <summary>Workers running a job.</summary>
    public int Busy => Volatile.Read(ref _busy);

    /// <summary>Queues <paramref name="work"/>; false when the queue is full (nothing queued).</summary>
    public bool TryRun<T>(Func<T> work, CancellationToken cancellationToken, out Task<T> result)
    {
        var item = new WorkItem<T>(work, cancellationToken);
        result = item.Completion.Task;
        return !_queue.IsAddingCompleted && _queue.TryAdd(item);
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var worker in _workers)
        {
            worker.Join();
        }
        _queue.Dispose();
    }

    private void Work()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            _metrics?.HashingWaited(Stopwatch.GetElapsedTime(item.Queued));
            Interlocked.Increment(ref _busy);
            try
            {
                item.Execute();
            }
            finally
            {
                Interlocked.Decrement(ref _busy);
            }
        }
    }

    private interface IWorkItem
    {
        /// <summary>When it was queued (<see cref="Stopwatch.GetTimestamp"/>).</summary>
        long Queued { get; }

        void Execute();
    }

    private sealed class WorkItem<T>(Func<T> work, CancellationToken cancellationToken) : IWorkItem
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Queued { get; } = Stopwatch.GetTimestamp();

        public void Execute()
        {
            // A client that went away while queued costs no hashing.
            if (cancellationToken.IsCancellationRequested)
            {
                Completion.TrySetCanceled(cancellationToken);
                return;
            }
            try
            {
                Completion.TrySetResult(work());
            }
            catch (Exception e)
            {
                Completion.TrySetException(e);
            }
        }
    }
}
