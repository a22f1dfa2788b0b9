using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>GETQUOTAROOT (RFC 9208 §4.3.2): the folder's quota root (the mailbox's one) and its usage and limit.</summary>
internal sealed class GetQuotaRootCommand : IImapCommand
{
    public string Name => "GETQUOTAROOT";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectEnd();
        if (!session.RequireStore().Exists(name))
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "NONEXISTENT");
            return;
        }
        var state = await session.Quota.StateAsync(session.User!, cancellationToken);
        session.Write($"* QUOTAROOT {ImapFormat.AString(name)} {ImapFormat.Quote(QuotaResponses.RootName)}\r\n");
        session.Write(QuotaResponses.Quota(state));
        session.Tagged(tag, ImapStatus.Ok, "GETQUOTAROOT completed");
    }
}
