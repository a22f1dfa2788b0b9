using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>UNSELECT (RFC 3691): deselects without expunging.</summary>
internal sealed class UnselectCommand : IImapCommand
{
    public string Name => "UNSELECT";

    public bool SendsUpdatesAfter => false;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Deselect();
        session.Tagged(tag, ImapStatus.Ok, "UNSELECT completed");
        return Task.CompletedTask;
    }
}
