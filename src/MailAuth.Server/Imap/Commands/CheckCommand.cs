using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>CHECK (§6.4.1): every change is already on disk.</summary>
internal sealed class CheckCommand : IImapCommand
{
    public string Name => "CHECK";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Tagged(tag, ImapStatus.Ok, "CHECK completed");
        return Task.CompletedTask;
    }
}
