using System.Data.Common;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Observability;
using MailAuth.Core.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Sessions;

/// <summary>
/// Follows the mailbox change log, which every process that changes a credential writes (this
/// server, other nodes, the CLI), and ends the sessions each change invalidates: a password change
/// (unless kept), a disable or a removal. The log is read when <see cref="IMailboxChangeSignal"/>
/// says a change was committed (PostgreSQL: at once) and at every interval regardless, so a
/// missed push delays a change by at most <see cref="ListeningPollInterval"/>.
/// </summary>
internal sealed partial class MailboxChangeWatcher(
    IMailboxChangeFeed feed,
    MailboxSessions sessions,
    TimeProvider clock,
    ILogger<MailboxChangeWatcher> logger,
    MailAuthMetrics? metrics = null,
    IMailboxChangeSignal? signal = null) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>While changes are pushed, reading without a push only guards against a notification lost in a way nobody saw.</summary>
    public static readonly TimeSpan ListeningPollInterval = TimeSpan.FromSeconds(10);

    /// <summary>Rows are needed only until every server has read them, and by a login racing a change (milliseconds).</summary>
    private static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    private const int BatchSize = 1000;

    private long _cursor;

    /// <summary>
    /// Reads where the log is before the listeners start (this service is registered before
    /// them), so that no session exists whose change could fall before the first position read.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>Starts following the log from its newest change: older ones ended sessions of earlier processes.</summary>
    internal async Task InitializeAsync(CancellationToken cancellationToken)
    {
        _cursor = await feed.LatestPositionAsync(cancellationToken);
        sessions.Watched(_cursor);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wakeUp = signal ?? new PolledMailboxChangeSignal(clock);
        var nextPrune = clock.GetUtcNow();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await wakeUp.WaitAsync(wakeUp.IsLive ? ListeningPollInterval : PollInterval, stoppingToken);
                    await PollAsync(stoppingToken);
                    if (clock.GetUtcNow() >= nextPrune)
                    {
                        nextPrune = clock.GetUtcNow() + PruneInterval;
                        var pruned = await feed.PruneAsync(Retention, stoppingToken);
                        if (pruned > 0)
                        {
                            LogPruned(pruned);
                        }
                    }
                }
                catch (DbException e)
                {
                    // Busy or locked by a long CLI import, the database restarting: the cursor has
                    // not moved; wait a poll interval, then retry.
                    metrics?.ChangeLogReadFailed();
                    LogReadFailed(e.Message);
                    await Task.Delay(PollInterval, clock, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Ends the sessions of every change after the cursor; returns how many sessions this ended.</summary>
    internal async Task<int> PollAsync(CancellationToken cancellationToken)
    {
        var ended = 0;
        while (true)
        {
            var changes = await feed.ReadAfterAsync(_cursor, BatchSize, cancellationToken);
            if (changes.Count == 0)
            {
                return ended;
            }
            _cursor = changes[^1].Position;
            // Published before any session is ended: see MailboxSessions.OpenAsync.
            sessions.Watched(_cursor);
            foreach (var change in changes.Where(c => c.EndsSessions))
            {
                var count = sessions.End(change.Address, change.Position, SessionEndReason.CredentialsChanged);
                if (count > 0)
                {
                    LogEnded(count, change.Kind, change.Address.ToString());
                }
                ended += count;
            }
            if (changes.Count < BatchSize)
            {
                return ended;
            }
        }
    }

    [LoggerMessage(EventId = 130, Level = LogLevel.Information, Message = "sessions ended={Count} change={Kind} address={Address}")]
    private partial void LogEnded(int count, MailboxChangeKind kind, string address);

    [LoggerMessage(EventId = 131, Level = LogLevel.Warning, Message = "mailbox change log could not be read, retrying: {Error}")]
    private partial void LogReadFailed(string error);

    [LoggerMessage(EventId = 132, Level = LogLevel.Debug, Message = "mailbox change log: {Count} old row(s) pruned")]
    private partial void LogPruned(int count);
}
