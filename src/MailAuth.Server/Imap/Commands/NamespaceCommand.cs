using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>NAMESPACE (RFC 2342): one personal namespace, no shared ones.</summary>
internal sealed class NamespaceCommand : IImapCommand
{
    public string Name => "NAMESPACE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Write($"* NAMESPACE ((\"\" \"{MaildirStore.Delimiter}\")) NIL NIL\r\n");
        session.Tagged(tag, ImapStatus.Ok, "NAMESPACE completed");
        return Task.CompletedTask;
    }
}
