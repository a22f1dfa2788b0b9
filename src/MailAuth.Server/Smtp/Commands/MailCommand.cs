using MailAuth.Core.Addresses;

namespace MailAuth.Server.Smtp.Commands;

/// <summary>
/// MAIL (RFC 5321 §4.1.1.2). The reverse-path must be the authenticated mailbox itself, as
/// Postfix's <c>reject_sender_login_mismatch</c> requires; the null reverse-path is refused
/// because bounces come from mail servers, never from a user's client.
/// </summary>
internal sealed class MailCommand : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        session.Reply(Decide(session, argument));
        return ValueTask.FromResult(SmtpAction.Continue);
    }

    private static string Decide(SmtpSession session, string argument)
    {
        if (!SmtpCommandParser.TryParseMailFrom(argument, out var command, out var syntax))
        {
            return syntax!.Reply;
        }
        // RFC 1870 §6.1: refuse at once a message announced as too large.
        if (command!.Size > session.Options.MaxMessageSize)
        {
            return SmtpReply.MessageTooLarge;
        }
        if (command.ReversePath.Length == 0)
        {
            return SmtpReply.NullSenderRefused;
        }
        // RFC 6531 §3.4: a non-ASCII address needs the SMTPUTF8 parameter.
        if (!command.SmtpUtf8 && !System.Text.Ascii.IsValid(command.ReversePath))
        {
            return SmtpReply.NonAsciiSender;
        }
        if (!AddressNormalizer.TryNormalize(command.ReversePath, out var sender, out _))
        {
            return SmtpReply.BadSenderAddress;
        }
        if (sender != session.AuthenticatedAddress)
        {
            return SmtpReply.SenderNotOwned;
        }
        session.Transaction = new SmtpTransaction(sender, command);
        session.Advance(SmtpEvent.SenderAccepted);
        return SmtpReply.SenderOk;
    }
}
