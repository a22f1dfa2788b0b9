using System.Data;
using System.Data.Common;
using System.Globalization;
using MailAuth.Core.Audit;
using MailAuth.Core.Notifications;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Storage;

/// <summary>
/// The audit log and the notification outbox. Both are written inside the transaction of the
/// change they describe, so an event is recorded if and only if it happened.
/// </summary>
internal sealed partial class StoreJournal(StoreDatabase database, TimeProvider clock, ILogger<StoreJournal> logger)
    : IAuditLog, INotificationOutbox
{
    internal async Task AuditAsync(
        DbConnection connection, DbTransaction transaction, Actor actor, string @event, string subject, string reason,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO audit_log (at, actor, event, subject, reason) VALUES (@at, @actor, @event, @subject, @reason)";
        command.AddParameter("@at", Now());
        command.AddParameter("@actor", actor.Name);
        command.AddParameter("@event", @event);
        command.AddParameter("@subject", subject);
        command.AddParameter("@reason", reason);
        await command.ExecuteNonQueryAsync(cancellationToken);
        LogAudit(actor.Name, @event, subject, reason);
    }

    internal async Task QueueAsync(
        DbConnection connection, DbTransaction transaction, Notification notification, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO outbox (channel, recipient, subject, body, secret, created_at) VALUES (@channel, @recipient, @subject, @body, @secret, @now)
            """;
        command.AddParameter("@channel", notification.Channel == NotificationChannel.Sms ? "sms" : "email");
        command.AddParameter("@recipient", notification.Recipient);
        command.AddParameter("@subject", notification.Subject);
        command.AddParameter("@body", notification.Body);
        command.AddParameter("@secret", notification.Secret is { } secret
            ? database.Secrets.Seal(System.Text.Encoding.UTF8.GetBytes(secret), OutboxPurpose)
            : DBNull.Value);
        command.AddParameter("@now", Now());
        await command.ExecuteNonQueryAsync(cancellationToken);
        LogQueued(notification.Channel, notification.Recipient, notification.Subject);
    }

    /// <summary>Unsent outbox rows, for the metrics (read at each scrape, so synchronous).</summary>
    internal long CountPending()
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM outbox WHERE sent_at IS NULL";
        return (long)command.ExecuteScalar()!;
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT at, actor, event, subject, reason FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT @limit) AS newest ORDER BY id";
        command.AddParameter("@limit", limit);
        var entries = new List<AuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new AuditEntry(ParseTime(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        }
        return entries;
    }

    async Task<IReadOnlyList<OutboxMessage>> INotificationOutbox.ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {OutboxColumns} FROM (SELECT * FROM outbox ORDER BY id DESC LIMIT @limit) AS newest ORDER BY id";
        command.AddParameter("@limit", limit);
        return await ReadOutboxAsync(command, reveal: false, cancellationToken);
    }

    async Task<IReadOnlyList<OutboxMessage>> INotificationOutbox.DispatchAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        IReadOnlyList<OutboxMessage> pending;
        await using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = $"SELECT {OutboxColumns} FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT @limit";
            select.AddParameter("@limit", limit);
            pending = await ReadOutboxAsync(select, reveal: true, cancellationToken);
        }
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = "UPDATE outbox SET sent_at = @now, secret = NULL WHERE id = @id";
            update.AddParameter("@now", Now());
            var id = update.AddParameter("@id", DbType.Int64);
            foreach (var message in pending)
            {
                id.Value = message.Id;
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return pending;
    }

    private const string OutboxColumns = "id, channel, recipient, subject, body, created_at, sent_at, secret";

    /// <summary>The purpose an outbox secret is sealed for (<see cref="SecretBox"/>).</summary>
    private const string OutboxPurpose = "outbox";

    private async Task<IReadOnlyList<OutboxMessage>> ReadOutboxAsync(DbCommand command, bool reveal, CancellationToken cancellationToken)
    {
        var messages = new List<OutboxMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var channel = reader.GetString(1) == "sms" ? NotificationChannel.Sms : NotificationChannel.Email;
            var sealedSecret = await reader.IsDBNullAsync(7, cancellationToken) ? null : (byte[])reader.GetValue(7);
            var notification = new Notification(channel, reader.GetString(2), reader.GetString(3), reader.GetString(4))
            {
                Secret = reveal && sealedSecret is not null
                    ? System.Text.Encoding.UTF8.GetString(database.Secrets.Open(sealedSecret, OutboxPurpose))
                    : null,
            };
            messages.Add(new OutboxMessage(
                reader.GetInt64(0),
                notification,
                ParseTime(reader.GetString(5)),
                await reader.IsDBNullAsync(6, cancellationToken) ? null : ParseTime(reader.GetString(6)),
                SecretHeld: !reveal && sealedSecret is not null));
        }
        return messages;
    }

    private string Now() => clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    [LoggerMessage(EventId = 50, Level = LogLevel.Information, Message = "audit actor={Actor} event={Event} subject={Subject} reason={Reason}")]
    private partial void LogAudit(string actor, string @event, string subject, string reason);

    [LoggerMessage(EventId = 51, Level = LogLevel.Information, Message = "notification queued channel={Channel} to={Recipient} subject={Subject}")]
    private partial void LogQueued(NotificationChannel channel, string recipient, string subject);
}
