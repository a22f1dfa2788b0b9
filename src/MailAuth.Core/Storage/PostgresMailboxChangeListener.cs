using MailAuth.Core.Mailboxes;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MailAuth.Core.Storage;

/// <summary>
/// LISTENs on <see cref="Channel"/> over one connection of its own, outside the pool, so that a
/// change committed on any node or by any CLI run (<see cref="MailboxChangeLog"/> NOTIFYs in the
/// change's transaction, delivered on commit) wakes this node's watcher at once. When the
/// connection drops it is opened again with a growing delay; each (re)opening asks for a read of
/// the log, which finds what was committed while nobody listened.
/// </summary>
internal sealed partial class PostgresMailboxChangeListener(
    PostgresDatabase database, TimeProvider clock, ILogger<PostgresMailboxChangeListener> logger)
    : IMailboxChangeSignal, IAsyncDisposable
{
    internal const string Channel = "mailauth_mailbox_changes";

    /// <summary>Seen in <c>pg_stat_activity</c>, so that an operator can tell the listening connections.</summary>
    internal const string ApplicationName = "mailauth change listener";

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(30);

    private NpgsqlConnection? _connection;
    private TimeSpan _retry = TimeSpan.Zero;
    private DateTimeOffset _nextAttempt = DateTimeOffset.MinValue;

    public bool IsLive => _connection is not null;

    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_connection is null && clock.GetUtcNow() >= _nextAttempt && await TryListenAsync(cancellationToken))
        {
            return true;
        }
        if (_connection is null)
        {
            var untilRetry = _nextAttempt - clock.GetUtcNow();
            await Task.Delay(untilRetry < timeout ? untilRetry : timeout, clock, cancellationToken);
            return false;
        }
        try
        {
            return await _connection.WaitAsync(timeout, cancellationToken);
        }
        catch (NpgsqlException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Terminated by the server, a restart, a failover, the network: read the log now, listen again next.
            LogLost(e.Message);
            await DropAsync();
            return true;
        }
    }

    private async Task<bool> TryListenAsync(CancellationToken cancellationToken)
    {
        var connection = database.CreateListenerConnection(ApplicationName);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using (var listen = connection.CreateCommand())
            {
                listen.CommandText = "LISTEN " + Channel;
                await listen.ExecuteNonQueryAsync(cancellationToken);
            }
            _connection = connection;
            _retry = TimeSpan.Zero;
            LogListening(Channel);
            return true;
        }
        catch (NpgsqlException e) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync();
            _retry = _retry == TimeSpan.Zero ? FirstRetry : TimeSpan.FromTicks(Math.Min(_retry.Ticks * 2, LongestRetry.Ticks));
            _nextAttempt = clock.GetUtcNow() + _retry;
            LogListenFailed(e.Message, (long)_retry.TotalMilliseconds);
            return false;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task DropAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(DropAsync());

    [LoggerMessage(EventId = 135, Level = LogLevel.Information, Message = "mailbox changes: listening on PostgreSQL channel {Channel}")]
    private partial void LogListening(string channel);

    [LoggerMessage(EventId = 136, Level = LogLevel.Warning, Message = "mailbox changes: listening connection lost, reading the log and listening again: {Error}")]
    private partial void LogLost(string error);

    [LoggerMessage(EventId = 137, Level = LogLevel.Warning, Message = "mailbox changes: cannot listen, polling; next attempt in {RetryMs} ms: {Error}")]
    private partial void LogListenFailed(string error, long retryMs);
}
