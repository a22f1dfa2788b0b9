using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>NOOP (§6.1.2): also the polling point where a selected folder's changes are reported.</summary>
internal sealed class NoopCommand : IImapCommand
{
    public string Name => "NOOP";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Selected?.WriteUpdates(session, allowExpunge: true);
        session.Tagged(tag, ImapStatus.Ok, "NOOP completed");
        return Task.CompletedTask;
    }
}
