namespace MailAuth.Core.Notifications;

public enum NotificationChannel
{
    Email,
    Sms,
}

public sealed record Notification(NotificationChannel Channel, string Recipient, string Subject, string Body);

public sealed record OutboxMessage(long Id, Notification Notification, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);

/// <summary>
/// Where notifications to account holders go. The default implementation queues them in the
/// outbox table and the log; a real e-mail/SMS gateway can drain that table (rows with no
/// sent_at) or replace this interface.
/// </summary>
public interface INotificationOutbox
{
    Task<IReadOnlyList<OutboxMessage>> ListAsync(int limit, CancellationToken cancellationToken);
}
