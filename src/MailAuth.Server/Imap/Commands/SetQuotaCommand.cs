using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// SETQUOTA (RFC 9208 §4.2): parsed, then refused; quotas are the administrator's (CLI <c>mailbox
/// quota</c>), which is why the QUOTASET capability is not announced.
/// </summary>
internal sealed class SetQuotaCommand : IImapCommand
{
    public string Name => "SETQUOTA";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        arguments.ReadAString();
        arguments.ExpectSpace();
        arguments.Expect('(');
        if (!arguments.TryConsume(')'))
        {
            do
            {
                arguments.ReadAtom();
                arguments.ExpectSpace();
                arguments.ReadNumber();
            }
            while (arguments.TryConsume(' '));
            arguments.Expect(')');
        }
        arguments.ExpectEnd();
        session.Tagged(tag, ImapStatus.No, "Quotas are set by the administrator", "NOPERM");
        return Task.CompletedTask;
    }
}
