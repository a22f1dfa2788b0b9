using MailAuth.Core.Observability;
using MailAuth.Server.Maildir;
using MailAuth.Server.Nodes;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Smtp.Delivery;

/// <summary>
/// Hands a received message to its recipients and says what to answer after DATA. The order
/// makes a 250 mean "every copy is safe" and anything else mean "no local copy exists":
/// <list type="number">
/// <item>the relay first (when the transaction has remote recipients): a refusal or an unreachable
/// relay ends the transaction before anything is written locally (451 4.4.1 / 554 5.4.0);</item>
/// <item>then each mailbox homed on another node, handed to its LMTP (<see cref="HomeNodeDelivery"/>):
/// its refusal or silence is the transaction's answer, again before anything is written here;</item>
/// <item>then each local mailbox, atomically and durably (Maildir tmp → fsync → new/ → fsync). If
/// one fails, the copies already written for this transaction are removed and the client gets
/// 452 4.3.1, so that its retry does not duplicate them locally. The relay's copy, if any, is
/// already gone by then: a retry can duplicate it, which is preferred to losing a message.</item>
/// </list>
/// </summary>
internal sealed partial class SmtpDelivery(
    MaildirDelivery maildir, MailboxQuota quota, SmtpRelayClient? relay, MailAuthMetrics metrics, ILogger<SmtpDelivery> logger,
    HomeNodeDelivery homeNodes)
{
    public async Task<string> DeliverAsync(SmtpTransaction transaction, Stream message, string id, CancellationToken cancellationToken)
    {
        var remote = transaction.Recipients.Where(r => !r.IsLocal).Select(r => r.ForwardPath).ToList();
        var local = transaction.Recipients.Where(r => r.IsLocal).ToList();
        var sender = transaction.Sender.ToString();

        // Before the relay: one reply covers the whole transaction, so a hosted mailbox over its quota
        // refuses it before any copy exists anywhere.
        foreach (var recipient in local.Select(r => r.Address).Distinct())
        {
            if (!await quota.AdmitsAsync(recipient, message.Length, cancellationToken))
            {
                LogOverQuota(id, sender, recipient.ToString());
                metrics.Message("refused", message.Length);
                return SmtpReply.MailboxFull(recipient.ToString());
            }
        }

        if (remote.Count > 0)
        {
            if (relay is null)
            {
                // RCPT refuses remote recipients without a relay; reaching here is a bug.
                throw new InvalidOperationException("remote recipients accepted without a relay host");
            }
            message.Position = 0;
            var relayed = await relay.SendAsync(sender, remote, message, transaction.MailFrom.Body, transaction.MailFrom.SmtpUtf8, cancellationToken);
            LogRelay(id, sender, remote.Count, relayed.Status, relayed.Detail);
            switch (relayed.Status)
            {
                case RelayStatus.TemporaryFailure:
                    metrics.Message("refused", message.Length);
                    return SmtpReply.RelayTemporaryFailure(relayed.Detail);
                case RelayStatus.PermanentFailure:
                    metrics.Message("refused", message.Length);
                    return SmtpReply.RelayRefused(relayed.Detail);
            }
            metrics.Message("relayed", message.Length);
        }

        // Mailboxes homed on another node, after the relay and before any copy here: that node's
        // refusal, or its silence (4xx), ends the transaction as the relay's does.
        var elsewhere = await homeNodes.HandOverAsync(local.Select(r => r.Address), message, transaction.MailFrom, id, mayHandOn: true, cancellationToken);
        if (elsewhere.Values.FirstOrDefault(reply => !reply.StartsWith('2')) is { } refused)
        {
            metrics.Message("refused", message.Length);
            return refused;
        }
        local = [.. local.Where(r => !elsewhere.ContainsKey(r.Address))];

        var written = new List<string>();
        foreach (var recipient in local)
        {
            try
            {
                message.Position = 0;
                written.Add(await maildir.DeliverAsync(recipient.Address, message, cancellationToken));
            }
            catch (Exception e)
            {
                // Whatever stopped this delivery (a failing disk, shutdown), the client will not
                // get a 250, so no copy of this transaction may stay behind.
                foreach (var path in written)
                {
                    File.Delete(path);
                }
                if (e is not (IOException or UnauthorizedAccessException))
                {
                    throw;
                }
                LogLocalFailed(e, id, recipient.Address.ToString());
                metrics.Message("refused", message.Length);
                return SmtpReply.InsufficientStorageNotAccepted;
            }
        }
        if (local.Count > 0)
        {
            metrics.Message("delivered", message.Length);
        }
        LogAccepted(id, sender, local.Count, remote.Count, message.Length);
        return SmtpReply.MessageAccepted(id);
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information,
        Message = "smtp message id={Id} from={Sender} local={Local} relayed={Relayed} size={Size} result=accepted")]
    private partial void LogAccepted(string id, string sender, int local, int relayed, long size);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information,
        Message = "smtp relay id={Id} from={Sender} recipients={Recipients} result={Status} detail={Detail}")]
    private partial void LogRelay(string id, string sender, int recipients, RelayStatus status, string detail);

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "smtp message id={Id} from={Sender} to={Recipient} result=refused (over quota)")]
    private partial void LogOverQuota(string id, string sender, string recipient);

    [LoggerMessage(EventId = 402, Level = LogLevel.Error, Message = "smtp message id={Id} local delivery to {Recipient} failed; transaction refused")]
    private partial void LogLocalFailed(Exception exception, string id, string recipient);
}
