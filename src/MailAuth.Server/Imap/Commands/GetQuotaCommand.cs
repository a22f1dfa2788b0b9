using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>GETQUOTA (RFC 9208 §4.3.1): the usage and limit of a quota root; the mailbox has one, "".</summary>
internal sealed class GetQuotaCommand : IImapCommand
{
    public string Name => "GETQUOTA";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var root = arguments.ReadAString();
        arguments.ExpectEnd();
        if (root != QuotaResponses.RootName)
        {
            session.Tagged(tag, ImapStatus.No, "No such quota root", "NONEXISTENT");
            return;
        }
        session.Write(QuotaResponses.Quota(await session.Quota.StateAsync(session.User!, cancellationToken)));
        session.Tagged(tag, ImapStatus.Ok, "GETQUOTA completed");
    }
}
