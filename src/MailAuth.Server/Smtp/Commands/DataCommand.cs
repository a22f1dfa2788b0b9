using System.Security.Cryptography;
using System.Text;
using MailAuth.Server.Sessions;
using MailAuth.Server.Smtp.Delivery;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Smtp.Commands;

/// <summary>
/// DATA (RFC 5321 §4.1.1.4): the message goes to a spool file behind our Received header, and is
/// delivered before the reply; 250 only once every copy is durable. Nothing is delivered once
/// the session has been ended (its sender's credential changed), nor to a recipient mailbox
/// removed or disabled since RCPT.
/// </summary>
internal sealed partial class DataCommand(
    MessageSpool spool, SmtpDelivery delivery, RecipientResolver recipients, TimeProvider clock, ILogger logger) : SmtpCommandHandler
{
    public override async ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        if (argument.Trim().Length > 0)
        {
            session.Reply(SmtpReply.SyntaxData);
            return SmtpAction.Continue;
        }
        var transaction = session.Transaction!;
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        FileStream? file = null;
        try
        {
#pragma warning disable CA2000 // disposed on every path below: on a write failure here, else after delivery
            file = spool.Create();
#pragma warning restore CA2000
            var header = ReceivedHeader.Build(
                session.ClientName, session.Connection.RemoteAddress, session.HostName, session.AuthenticatedAddress!,
                session.Connection.TlsDescription, id, clock.GetUtcNow());
            await file.WriteAsync(Encoding.UTF8.GetBytes(header), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (file is not null)
            {
                await file.DisposeAsync();
            }
            session.ResetTransaction();
            session.Reply(SmtpReply.InsufficientStorage);
            return SmtpAction.Continue;
        }

        await using (file)
        {
            session.Reply(SmtpReply.StartMailInput);
            if (!await session.Connection.FlushAsync(cancellationToken))
            {
                return SmtpAction.Close;
            }
            DataReadResult result;
            try
            {
                result = await SmtpDataReader.ReadAsync(
                    session.Connection.Input, file, session.Options.MaxMessageSize, session.IdleTimeout, session.ReadToken(cancellationToken));
            }
            catch (OperationCanceledException) when (session.IsEnded && !cancellationToken.IsCancellationRequested)
            {
                return Ended(session, id);
            }
            session.ResetTransaction();
            switch (result.Status)
            {
                case DataReadStatus.Disconnected:
                    return SmtpAction.Close;
                case DataReadStatus.TimedOut:
                    session.Reply(SmtpReply.IdleTimeout);
                    return SmtpAction.Close;
                case DataReadStatus.TooLarge:
                    session.Reply(SmtpReply.MessageTooLarge);
                    return SmtpAction.Continue;
                case DataReadStatus.StorageFailed:
                    session.Reply(SmtpReply.InsufficientStorage);
                    return SmtpAction.Continue;
            }
            // The last moment before anything is delivered: the session may have been ended while the message arrived.
            if (session.IsEnded)
            {
                return Ended(session, id);
            }
            if (await GoneRecipientAsync(transaction, cancellationToken) is { } gone)
            {
                // No bounce is ever sent, so a 250 would tell the sender every recipient has the
                // message: the whole transaction is refused instead, and a resend gets the RCPT refusal.
                LogRecipientGone(id, gone.Address.ToString());
                session.Reply(SmtpReply.RecipientGoneSinceRcpt);
                return SmtpAction.Continue;
            }
            session.Reply(await delivery.DeliverAsync(transaction, file, id, cancellationToken));
            return SmtpAction.Continue;
        }
    }

    /// <summary>The first local recipient that is no longer an enabled mailbox (removed, or disabled, since RCPT).</summary>
    private async Task<SmtpRecipient?> GoneRecipientAsync(SmtpTransaction transaction, CancellationToken cancellationToken)
    {
        foreach (var recipient in transaction.Recipients.Where(r => r.IsLocal))
        {
            if (await recipients.ResolveAsync(recipient.Address, cancellationToken) != RecipientKind.LocalMailbox)
            {
                return recipient;
            }
        }
        return null;
    }

    private SmtpAction Ended(SmtpSession session, string id)
    {
        LogNotDelivered(id, session.Mailbox!.Reason.LogName(), session.Mailbox.Address.ToString());
        session.Reply(session.EndedReply());
        return SmtpAction.Close;
    }

    [LoggerMessage(EventId = 312, Level = LogLevel.Information,
        Message = "smtp message id={Id} not delivered: session ended reason={Reason} address={Address}")]
    private partial void LogNotDelivered(string id, string reason, string address);

    [LoggerMessage(EventId = 313, Level = LogLevel.Information,
        Message = "smtp message id={Id} refused: recipient removed or disabled since RCPT recipient={Recipient}")]
    private partial void LogRecipientGone(string id, string recipient);
}
