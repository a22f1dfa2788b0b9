using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>CAPABILITY (RFC 3501 §6.1.1).</summary>
internal sealed class CapabilityCommand : IImapCommand
{
    public string Name => "CAPABILITY";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Write($"* CAPABILITY {session.Capabilities()}\r\n");
        session.Tagged(tag, ImapStatus.Ok, "CAPABILITY completed");
        return Task.CompletedTask;
    }
}
