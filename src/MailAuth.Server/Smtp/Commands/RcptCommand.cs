using MailAuth.Core.Addresses;
using MailAuth.Server.Smtp.Delivery;

namespace MailAuth.Server.Smtp.Commands;

/// <summary>
/// RCPT (RFC 5321 §4.1.1.3): local mailboxes are checked now, other domains are accepted only
/// when a relay host is configured.
/// </summary>
internal sealed class RcptCommand(RecipientResolver resolver, bool relayConfigured) : SmtpCommandHandler
{
    public override async ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.Reply(await DecideAsync(session, argument, cancellationToken));
        return SmtpAction.Continue;
    }

    private async Task<string> DecideAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        var transaction = session.Transaction!;
        if (!SmtpCommandParser.TryParseRcptTo(argument, out var command, out var syntax))
        {
            return syntax!.Reply;
        }
        if (transaction.AcceptedRcptCommands >= session.Options.MaxRecipients)
        {
            return "452 4.5.3 Too many recipients";
        }
        if (!transaction.MailFrom.SmtpUtf8 && !System.Text.Ascii.IsValid(command!.ForwardPath))
        {
            return "553 5.6.7 Non-ASCII recipient address requires SMTPUTF8";
        }
        if (!AddressNormalizer.TryNormalize(command!.ForwardPath, out var recipient, out _))
        {
            return "501 5.1.3 Bad recipient address syntax";
        }
        var kind = await resolver.ResolveAsync(recipient, cancellationToken);
        switch (kind)
        {
            case RecipientKind.UnknownLocalMailbox:
                return "550 5.1.1 Recipient address rejected: no such mailbox";
            case RecipientKind.DisabledMailbox:
                return "550 5.2.1 Recipient address rejected: mailbox disabled";
            case RecipientKind.Remote when !relayConfigured:
                return "550 5.7.1 Relaying denied";
        }
        // The same mailbox named twice (or in two spellings) gets one copy.
        if (!transaction.Recipients.Any(existing => existing.Address == recipient))
        {
            transaction.Recipients.Add(new SmtpRecipient(recipient, command.ForwardPath, kind == RecipientKind.LocalMailbox));
        }
        transaction.AcceptedRcptCommands++;
        session.State = SmtpState.Recipients;
        return "250 2.1.5 Recipient OK";
    }
}
