using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// NOTIFY (RFC 5465): which changes the session hears of without asking, between commands and in
/// IDLE. SET replaces the previous set; NONE ends it. The implicit NOOP of §3.1 is the selected
/// mailbox's updates every command ends with.
/// </summary>
internal sealed class NotifyCommand : IImapCommand
{
    public string Name => "NOTIFY";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        var request = NotifyArguments.Parse(arguments);
        if (request.Unsupported.Count > 0)
        {
            session.Tagged(tag, ImapStatus.No, $"Unsupported event {request.Unsupported[0]}", $"BADEVENT ({NotifyArguments.SupportedEvents})");
            return Task.CompletedTask;
        }
        if (request.Groups.Count == 0)
        {
            session.Notifications = null;
            session.Tagged(tag, ImapStatus.Ok, "NOTIFY completed");
            return Task.CompletedTask;
        }
        var watch = new NotifyWatch(request, session.RequireStore(), session.Selected?.Name, session.Options.IdlePollInterval);
        if (watch.TooMany)
        {
            session.Tagged(tag, ImapStatus.No, $"More than {NotifyWatch.MaxMailboxes} mailboxes to watch", "NOTIFICATIONOVERFLOW");
            return Task.CompletedTask;
        }
        session.Notifications = watch;
        if (request.Status)
        {
            session.Write(watch.InitialStatus());
        }
        session.Tagged(tag, ImapStatus.Ok, "NOTIFY completed");
        return Task.CompletedTask;
    }
}
