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
            return "552 5.3.4 Message size exceeds fixed maximum message size";
        }
        if (command.ReversePath.Length == 0)
        {
            return "553 5.7.1 Sender address rejected: the null sender is not accepted for submission";
        }
        // RFC 6531 §3.4: a non-ASCII address needs the SMTPUTF8 parameter.
        if (!command.SmtpUtf8 && !System.Text.Ascii.IsValid(command.ReversePath))
        {
            return "553 5.6.7 Non-ASCII sender address requires SMTPUTF8";
        }
        if (!AddressNormalizer.TryNormalize(command.ReversePath, out var sender, out _))
        {
            return "501 5.1.7 Bad sender address syntax";
        }
        if (sender != session.AuthenticatedAddress)
        {
            return "553 5.7.1 Sender address rejected: not owned by the authenticated user";
        }
        session.Transaction = new SmtpTransaction(sender, command);
        session.State = SmtpState.MailFrom;
        return "250 2.1.0 Sender OK";
    }
}
