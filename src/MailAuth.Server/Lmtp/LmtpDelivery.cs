using System.Data.Common;
using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Core.Observability;
using MailAuth.Server.Maildir;
using MailAuth.Server.Nodes;
using MailAuth.Server.Smtp;
using MailAuth.Server.Smtp.Delivery;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Lmtp;

/// <summary>
/// Delivers a received message to each recipient of an LMTP transaction and says what to answer
/// for each (RFC 2033 §4.2). Each copy gets its own <c>Return-Path:</c> and <c>Delivered-To:</c>
/// (RFC 5321 §4.4; Delivered-To as Postfix and Dovecot write it) and is written the Maildir way
/// (tmp → fsync → new/ → fsync) before its 250; a copy that cannot be written gets 452 4.3.1 and
/// only that recipient is retried by the MTA.
/// </summary>
internal sealed partial class LmtpDelivery(
    MaildirDelivery maildir, RecipientResolver recipients, MailboxQuota quota, MailAuthMetrics metrics, ILogger<LmtpDelivery> logger,
    HomeNodeDelivery homeNodes)
{
    /// <summary>One reply per accepted RCPT, in their order; <paramref name="message"/> is the spooled message with our Received header.</summary>
    /// <remarks>A message another node handed over (<paramref name="fromOtherNode"/>) is never handed on.</remarks>
    public async Task<IReadOnlyList<string>> DeliverAsync(
        LmtpTransaction transaction, Stream message, string id, bool fromOtherNode, CancellationToken cancellationToken)
    {
        // A mailbox homed on another node gets that node's answer, and no copy here.
        var replies = new Dictionary<EmailAddress, string>(
            await homeNodes.HandOverAsync(transaction.Recipients, message, transaction.MailFrom, id, mayHandOn: !fromOtherNode, cancellationToken));
        foreach (var recipient in transaction.Recipients.Distinct().Where(recipient => !replies.ContainsKey(recipient)))
        {
            replies[recipient] = await DeliverOneAsync(transaction.MailFrom.ReversePath, recipient, message, id, cancellationToken);
        }
        return [.. transaction.Recipients.Select(recipient => replies[recipient])];
    }

    private async Task<string> DeliverOneAsync(string sender, EmailAddress recipient, Stream message, string id, CancellationToken cancellationToken)
    {
        // Checked again just before writing: the mailbox may have been removed or disabled since RCPT.
        var trace = Encoding.UTF8.GetBytes($"Return-Path: <{sender}>\r\nDelivered-To: {recipient}\r\n");
        RecipientKind kind;
        bool admitted;
        try
        {
            kind = await recipients.ResolveAsync(recipient, cancellationToken);
            admitted = kind != RecipientKind.LocalMailbox || await quota.AdmitsAsync(recipient, trace.Length + message.Length, cancellationToken);
        }
        catch (DbException e)
        {
            LogStoreUnavailable(e, id, recipient.ToString());
            return LmtpReply.StoreUnavailable;
        }
        var refusal = LmtpReply.RefusalFor(kind);
        if (refusal is not null)
        {
            LogRefused(id, recipient.ToString(), refusal);
            metrics.Message("refused", message.Length);
            return refusal;
        }
        if (!admitted)
        {
            var full = SmtpReply.MailboxFull(recipient.ToString());
            LogOverQuota(id, recipient.ToString());
            metrics.Message("refused", message.Length);
            return full;
        }
        try
        {
            message.Position = 0;
            // Disposing it leaves the spooled message open (it only reads from it).
            await using var copy = new PrefixedStream(trace, message);
            await maildir.DeliverAsync(recipient, copy, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogFailed(e, id, recipient.ToString());
            metrics.Message("refused", message.Length);
            return LmtpReply.InsufficientStorage;
        }
        LogDelivered(id, sender, recipient.ToString(), trace.Length + message.Length);
        metrics.Message("delivered", trace.Length + message.Length);
        return LmtpReply.Delivered(id, recipient.ToString());
    }

    [LoggerMessage(EventId = 1700, Level = LogLevel.Information,
        Message = "lmtp message id={Id} from=<{Sender}> to={Recipient} size={Size} result=delivered")]
    private partial void LogDelivered(string id, string sender, string recipient, long size);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information,
        Message = "lmtp message id={Id} to={Recipient} result=refused reply={Reply} (removed or disabled since RCPT)")]
    private partial void LogRefused(string id, string recipient, string reply);

    [LoggerMessage(EventId = 1710, Level = LogLevel.Information, Message = "lmtp message id={Id} to={Recipient} result=refused (over quota)")]
    private partial void LogOverQuota(string id, string recipient);

    [LoggerMessage(EventId = 1705, Level = LogLevel.Error, Message = "lmtp message id={Id} to={Recipient}: mailbox database unavailable; answered 451 for it")]
    private partial void LogStoreUnavailable(Exception exception, string id, string recipient);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Error, Message = "lmtp message id={Id} delivery to {Recipient} failed; answered 452 for it")]
    private partial void LogFailed(Exception exception, string id, string recipient);
}
