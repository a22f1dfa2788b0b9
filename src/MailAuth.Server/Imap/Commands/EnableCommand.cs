using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>ENABLE (RFC 5161): none of the extensions it can enable is implemented, so nothing is enabled.</summary>
internal sealed class EnableCommand : IImapCommand
{
    public string Name => "ENABLE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        do
        {
            arguments.ExpectSpace();
            arguments.ReadAtom();
        }
        while (!arguments.AtEnd);
        session.Write($"* ENABLED\r\n");
        session.Tagged(tag, ImapStatus.Ok, "ENABLE completed");
        return Task.CompletedTask;
    }
}
