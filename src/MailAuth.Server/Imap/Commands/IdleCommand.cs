using System.Text;
using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// IDLE (RFC 2177): changes to the selected folder are pushed as they happen. Another session's
/// APPEND, STORE or EXPUNGE wakes the wait at once, and so does a file delivered into new/ by
/// another program, seen by the folder's watch (<see cref="Maildir.NewMailWatchers"/>). The folder
/// is still read every <see cref="Hosting.ImapOptions.IdlePollIntervalMilliseconds"/>, or every
/// <see cref="Maildir.NewMailWatchers.SafetyPollInterval"/> when watched (for cur/ changed by
/// another program), and a delivery signalled while the session was writing is never waited past.
/// </summary>
internal sealed class IdleCommand : IImapCommand
{
    public string Name => "IDLE";

    public bool SendsUpdatesAfter => false;

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Write("+ idling\r\n");
        session.Selected?.WriteUpdates(session, allowExpunge: true);
        if (!await session.FlushAsync(cancellationToken))
        {
            session.Closing = true;
            return;
        }
        var done = session.Connection.ReadLineAsync(session.Options.MaxLineLength, session.IdleTimeout, cancellationToken).AsTask();
        while (!done.IsCompleted)
        {
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Ended);
            // RFC 5465 §4: with NOTIFY on, IDLE sends what NOTIFY asks for, the selected mailbox's changes included.
            var selected = session.Notifications is null ? session.Selected : null;
            var changed = selected is not null ? selected.Folder.WaitForChangeAsync(selected.Snapshot.Version, wake.Token)
                : session.Notifications?.WaitAsync(wake.Token) ?? Task.Delay(Timeout.Infinite, wake.Token);
            await Task.WhenAny(done, changed, Task.Delay(PollInterval(session), wake.Token));
            await wake.CancelAsync();
            if (session.IsEnded)
            {
                // The mailbox's sessions were ended: the session loop says BYE. The DONE read is
                // still pending, so the session cannot go on reading commands anyway.
                session.Closing = true;
                return;
            }
            if (session.Notifications is { } watch)
            {
                await watch.WriteAsync(session, cancellationToken);
                if (!await session.FlushAsync(cancellationToken))
                {
                    session.Closing = true;
                    return;
                }
            }
            else if (selected is not null)
            {
                try
                {
                    selected.WriteUpdates(session, allowExpunge: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Deleted or renamed by another session. The DONE read is still pending, so the
                    // session cannot go on reading commands: it ends here.
                    session.Write("* BYE The selected folder was deleted or renamed\r\n");
                    session.Closing = true;
                    return;
                }
                if (!await session.FlushAsync(cancellationToken))
                {
                    session.Closing = true;
                    return;
                }
            }
        }
        var line = await done;
        switch (line.Status)
        {
            case Protocol.LineStatus.Line when Encoding.ASCII.GetString(line.Line).Equals("DONE", StringComparison.OrdinalIgnoreCase):
                session.Tagged(tag, ImapStatus.Ok, "IDLE terminated");
                break;
            case Protocol.LineStatus.Line or Protocol.LineStatus.TooLong:
                session.Tagged(tag, ImapStatus.Bad, "Expected DONE to end IDLE");
                break;
            case Protocol.LineStatus.TimedOut:
                session.Write("* BYE Idle timeout, closing the connection\r\n");
                session.Closing = true;
                break;
            default:
                session.Closing = true;
                break;
        }
    }

    private static TimeSpan PollInterval(ImapSession session)
    {
        var poll = session.Options.IdlePollInterval;
        return session.NewMailWatched && session.Notifications is null && poll < Maildir.NewMailWatchers.SafetyPollInterval
            ? Maildir.NewMailWatchers.SafetyPollInterval : poll;
    }
}
