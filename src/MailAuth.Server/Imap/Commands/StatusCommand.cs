using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>STATUS (§6.3.10).</summary>
internal sealed class StatusCommand : IImapCommand
{
    public string Name => "STATUS";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectSpace();
        var items = StatusItems.Read(arguments);
        arguments.ExpectEnd();
        var folder = session.RequireStore().Open(name);
        if (folder is null)
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "NONEXISTENT");
            return Task.CompletedTask;
        }
        if (items.Contains("HIGHESTMODSEQ"))
        {
            session.EnableCondstore(); // a CONDSTORE enabling command (RFC 7162 §3.1)
        }
        session.Write(StatusItems.Response(name, folder, items));
        session.Tagged(tag, ImapStatus.Ok, "STATUS completed");
        return Task.CompletedTask;
    }
}
