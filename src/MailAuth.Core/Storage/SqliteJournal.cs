using System.Globalization;
using MailAuth.Core.Audit;
using MailAuth.Core.Notifications;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Storage;

/// <summary>
/// The audit log and the notification outbox. Both are written inside the transaction of the
/// change they describe, so an event is recorded if and only if it happened.
/// </summary>
public sealed partial class SqliteJournal(SqliteDatabase database, TimeProvider clock, ILogger<SqliteJournal> logger)
    : IAuditLog, INotificationOutbox
{
    internal async Task AuditAsync(
        SqliteConnection connection, SqliteTransaction transaction, Actor actor, string @event, string subject, string reason,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO audit_log (at, actor, event, subject, reason) VALUES ($at, $actor, $event, $subject, $reason)";
        command.Parameters.AddWithValue("$at", Now());
        command.Parameters.AddWithValue("$actor", actor.Name);
        command.Parameters.AddWithValue("$event", @event);
        command.Parameters.AddWithValue("$subject", subject);
        command.Parameters.AddWithValue("$reason", reason);
        await command.ExecuteNonQueryAsync(cancellationToken);
        LogAudit(actor.Name, @event, subject, reason);
    }

    internal async Task QueueAsync(
        SqliteConnection connection, SqliteTransaction transaction, Notification notification, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO outbox (channel, recipient, subject, body, created_at) VALUES ($channel, $recipient, $subject, $body, $now)";
        command.Parameters.AddWithValue("$channel", notification.Channel == NotificationChannel.Sms ? "sms" : "email");
        command.Parameters.AddWithValue("$recipient", notification.Recipient);
        command.Parameters.AddWithValue("$subject", notification.Subject);
        command.Parameters.AddWithValue("$body", notification.Body);
        command.Parameters.AddWithValue("$now", Now());
        await command.ExecuteNonQueryAsync(cancellationToken);
        LogQueued(notification.Channel, notification.Recipient, notification.Subject);
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT at, actor, event, subject, reason FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT $limit) ORDER BY id";
        command.Parameters.AddWithValue("$limit", limit);
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
        command.CommandText = "SELECT id, channel, recipient, subject, body, created_at, sent_at FROM (SELECT * FROM outbox ORDER BY id DESC LIMIT $limit) ORDER BY id";
        command.Parameters.AddWithValue("$limit", limit);
        var messages = new List<OutboxMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var channel = reader.GetString(1) == "sms" ? NotificationChannel.Sms : NotificationChannel.Email;
            messages.Add(new OutboxMessage(
                reader.GetInt64(0),
                new Notification(channel, reader.GetString(2), reader.GetString(3), reader.GetString(4)),
                ParseTime(reader.GetString(5)),
                reader.IsDBNull(6) ? null : ParseTime(reader.GetString(6))));
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
