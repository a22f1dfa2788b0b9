using System.CommandLine;
using System.Text.Json;
using MailAuth.Core.Audit;
using MailAuth.Core.Notifications;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

/// <summary><c>outbox list</c> and <c>audit list</c>: what was sent to account holders, and every credential event.</summary>
internal static class JournalCommands
{
    public static IEnumerable<Command> Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var limit = new Option<int>("--limit") { Description = "Newest entries to show", DefaultValueFactory = _ => 1000 };

        var outbox = new Command("outbox", "Notifications queued for account holders (email, SMS)");
        var outboxList = new Command("list", "List queued notifications, oldest first; a secret they carry shows as [secret]") { json, limit };
        outboxList.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var messages = await services.GetRequiredService<INotificationOutbox>().ListAsync(parse.GetValue(limit), ct);
            Print(parse.Output(), messages, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        var outboxDispatch = new Command(
            "dispatch",
            "Hand the unsent notifications to a gateway: print them with their secrets (reset tokens) in place, mark them sent and erase the secrets")
        {
            json, limit,
        };
        outboxDispatch.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var messages = await services.GetRequiredService<INotificationOutbox>().DispatchAsync(parse.GetValue(limit), ct);
            Print(parse.Output(), messages, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        outbox.Add(outboxList);
        outbox.Add(outboxDispatch);

        var audit = new Command("audit", "The audit log of credential events");
        var auditList = new Command("list", "List audit entries, oldest first") { json, limit };
        auditList.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var entries = await services.GetRequiredService<IAuditLog>().ListAsync(parse.GetValue(limit), ct);
            if (parse.GetValue(json))
            {
                await parse.Output().WriteLineAsync(JsonSerializer.Serialize(entries.Select(e => new
                {
                    at = e.At,
                    actor = e.Actor,
                    @event = e.Event,
                    subject = e.Subject,
                    reason = e.Reason,
                }), CliContext.Json));
            }
            else
            {
                foreach (var e in entries)
                {
                    await parse.Output().WriteLineAsync($"{e.At:u}\t{e.Actor}\t{e.Event}\t{e.Subject}\t{e.Reason}");
                }
            }
            return ExitCodes.Success;
        }));
        audit.Add(auditList);
        return [outbox, audit];
    }

    /// <summary>Messages as text lines or JSON; <see cref="Notification.Text"/> holds the secret only when dispatching.</summary>
    private static void Print(TextWriter output, IReadOnlyList<OutboxMessage> messages, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(messages.Select(m => new
            {
                id = m.Id,
                channel = m.Notification.Channel == NotificationChannel.Sms ? "sms" : "email",
                recipient = m.Notification.Recipient,
                subject = m.Notification.Subject,
                body = m.Notification.Text,
                secretHeld = m.SecretHeld,
                createdAt = m.CreatedAt,
                sentAt = m.SentAt,
            }), CliContext.Json));
            return;
        }
        foreach (var m in messages)
        {
            output.WriteLine($"{m.CreatedAt:u}\t{m.Notification.Channel.ToString().ToLowerInvariant()}\t{m.Notification.Recipient}\t{m.Notification.Subject}: {m.Notification.Text}");
        }
    }
}
