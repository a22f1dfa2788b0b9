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
            return SmtpReply.TooManyRecipients;
        }
        if (!transaction.MailFrom.SmtpUtf8 && !System.Text.Ascii.IsValid(command!.ForwardPath))
        {
            return SmtpReply.NonAsciiRecipient;
        }
        if (!AddressNormalizer.TryNormalize(command!.ForwardPath, out var recipient, out _))
        {
            return SmtpReply.BadRecipientAddress;
        }
        var kind = await resolver.ResolveAsync(recipient, cancellationToken);
        switch (kind)
        {
            case RecipientKind.UnknownLocalMailbox:
                return SmtpReply.NoSuchMailbox;
            case RecipientKind.DisabledMailbox:
                return SmtpReply.MailboxDisabled;
            case RecipientKind.Remote when !relayConfigured:
                return SmtpReply.RelayingDenied;
        }
        // The same mailbox named twice (or in two spellings) gets one copy.
        if (!transaction.Recipients.Any(existing => existing.Address == recipient))
        {
            transaction.Recipients.Add(new SmtpRecipient(recipient, command.ForwardPath, kind == RecipientKind.LocalMailbox));
        }
        transaction.AcceptedRcptCommands++;
        session.Advance(SmtpEvent.RecipientAccepted);
        return SmtpReply.RecipientOk;
    }
}
