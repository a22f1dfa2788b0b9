namespace MailAuth.Core.Notifications;

public enum NotificationChannel
{
    Email,
    Sms,
}

/// <summary>
/// A message to an account holder. A <see cref="Secret"/> it carries (a reset token) is never part
/// of <see cref="Body"/>: the body holds <see cref="SecretPlaceholder"/> where it goes, and the
/// outbox keeps the secret sealed apart until the message is handed to a gateway.
/// </summary>
public sealed record Notification(NotificationChannel Channel, string Recipient, string Subject, string Body)
{
    public const string SecretPlaceholder = "[secret]";

    public string? Secret { get; init; }

    /// <summary>The text to send: the body with the secret in its place.</summary>
    public string Text => Secret is null ? Body : Body.Replace(SecretPlaceholder, Secret, StringComparison.Ordinal);
}

/// <summary>
/// A queued message. <see cref="SecretHeld"/>: it carries a secret that is sealed in the outbox and
/// not yet handed over (listings show the placeholder, never the secret).
/// </summary>
public sealed record OutboxMessage(long Id, Notification Notification, DateTimeOffset CreatedAt, DateTimeOffset? SentAt, bool SecretHeld = false);

/// <summary>
/// Where notifications to account holders go. The default implementation queues them in the
/// outbox table and the log; a real e-mail/SMS gateway takes them with <see cref="DispatchAsync"/>
/// (or replaces this interface).
/// </summary>
public interface INotificationOutbox
{
    /// <summary>The newest messages, oldest first, secrets withheld.</summary>
    Task<IReadOnlyList<OutboxMessage>> ListAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Hands the messages not yet sent to a gateway: returns them with their secrets in place and,
    /// in the same transaction, marks them sent and erases the secrets, so no usable secret stays at rest.
    /// </summary>
    Task<IReadOnlyList<OutboxMessage>> DispatchAsync(int limit, CancellationToken cancellationToken);
}
