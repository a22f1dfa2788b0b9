using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>CANCELUPDATE "tag" … (RFC 5267 §4.2): those searches are no longer kept up to date.</summary>
internal sealed class CancelUpdateCommand : IImapCommand
{
    public string Name => "CANCELUPDATE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        var tags = new List<string>();
        do
        {
            arguments.ExpectSpace();
            tags.Add(arguments.ReadString());
        }
        while (!arguments.AtEnd);
        var selected = session.RequireSelected();
        var unknown = tags.Where(t => !selected.Contexts.Cancel(t)).ToList();
        if (unknown.Count > 0)
        {
            session.Tagged(tag, ImapStatus.Bad, $"No search is kept up to date for tag {string.Join(", ", unknown)}");
            return Task.CompletedTask;
        }
        session.Tagged(tag, ImapStatus.Ok, "CANCELUPDATE completed");
        return Task.CompletedTask;
    }
}
