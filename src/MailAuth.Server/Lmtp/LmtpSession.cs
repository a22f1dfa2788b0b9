using System.Data.Common;
using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using MailAuth.Server.Smtp;
using MailAuth.Server.Smtp.Delivery;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Lmtp;

internal enum LmtpState
{
    /// <summary>Before LHLO.</summary>
    Connected,

    /// <summary>After LHLO or RSET, or after a transaction ended: MAIL may start one.</summary>
    Ready,

    /// <summary>After MAIL: RCPT.</summary>
    Sender,

    /// <summary>At least one RCPT accepted: more RCPT, or DATA.</summary>
    Recipients,
}

/// <summary>
/// One LMTP connection (RFC 2033) from the MTA: LHLO, MAIL, RCPT with a reply each, DATA with a
/// reply per accepted recipient, RSET, NOOP, QUIT. The argument syntax and the message reader are
/// submission's (<see cref="SmtpCommandParser"/>, <see cref="SmtpDataReader"/>): every line is cut
/// at <see cref="LmtpOptions.MaxLineLength"/> and the message at <see cref="LmtpOptions.MaxMessageSize"/>
/// before anything is buffered, and the message streams to the spool. Replies are flushed when
/// no pipelined input waits (RFC 2920 §3.2).
/// </summary>
internal sealed partial class LmtpSession(
    PipeReader input,
    PipeWriter output,
    string peer,
    LmtpOptions options,
    string hostName,
    RecipientResolver recipients,
    MessageSpool spool,
    LmtpDelivery delivery,
    TimeProvider clock,
    ILogger logger,
    bool fromOtherNode = false)
{
    private LmtpState _state = LmtpState.Connected;
    private string _clientName = "";
    private LmtpTransaction? _transaction;

    private enum Next
    {
        Continue,
        Close,
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Reply(LmtpReply.Greeting(hostName));
        if (!await ProtocolConnection.FlushAsync(output, cancellationToken))
        {
            return;
        }
        try
        {
            while (true)
            {
                var line = await ProtocolConnection.ReadLineAsync(input, options.MaxLineLength, options.IdleTimeout, OverlongLine.Discard, cancellationToken);
                var next = line.Status switch
                {
                    LineStatus.Closed => Next.Close,
                    LineStatus.TimedOut => Reply(LmtpReply.IdleTimeout, Next.Close),
                    LineStatus.TooLong => Reply(LmtpReply.LineTooLong, Next.Continue),
                    _ => await HandleLineAsync(line.Line, cancellationToken),
                };
                if (next == Next.Close)
                {
                    await ProtocolConnection.FlushAsync(output, cancellationToken);
                    return;
                }
                if (!HasBufferedInput() && !await ProtocolConnection.FlushAsync(output, cancellationToken))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // RFC 5321 §3.8: the MTA keeps the message queued and retries.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            Reply(LmtpReply.ShuttingDown);
            await ProtocolConnection.FlushAsync(output, grace.Token);
        }
    }

    private async ValueTask<Next> HandleLineAsync(byte[] line, CancellationToken cancellationToken)
    {
        if (!SmtpCommandParser.TryParseLine(line, out var command))
        {
            return Reply(LmtpReply.CommandNotUtf8, Next.Continue);
        }
        try
        {
            return command.Verb switch
            {
                "LHLO" => Lhlo(command.Argument),
                "HELO" or "EHLO" => Reply(LmtpReply.UseLhlo, Next.Continue),
                "MAIL" => Mail(command.Argument),
                "RCPT" => await RcptAsync(command.Argument, cancellationToken),
                "DATA" => await DataAsync(command.Argument, cancellationToken),
                "RSET" => Rset(),
                "NOOP" => Reply(LmtpReply.Ok, Next.Continue),
                "QUIT" => Reply(LmtpReply.Closing(hostName), Next.Close),
                _ => Reply(LmtpReply.CommandUnrecognized, Next.Continue),
            };
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogCommandFailed(e, peer, command.Verb);
            // Once DATA has begun the message may still be arriving: it must never be read as commands.
            return command.Verb == "DATA"
                ? Reply(LmtpReply.InternalErrorClosing, Next.Close)
                : Reply(LmtpReply.InternalError, Next.Continue);
        }
    }

    private Next Lhlo(string argument)
    {
        var name = argument.Trim();
        if (name.Length == 0 || name.Contains(' ', StringComparison.Ordinal) || name.Any(char.IsControl))
        {
            return Reply(LmtpReply.SyntaxLhlo, Next.Continue);
        }
        _clientName = name;
        _transaction = null;
        _state = LmtpState.Ready;
        string[] extensions =
        [
            "PIPELINING",
            "SIZE " + options.MaxMessageSize.ToString(CultureInfo.InvariantCulture),
            "8BITMIME",
            "ENHANCEDSTATUSCODES",
            "SMTPUTF8",
        ];
        Reply(LmtpReply.LhloGreeting(hostName));
        for (var i = 0; i < extensions.Length; i++)
        {
            Reply(LmtpReply.Extension(extensions[i], last: i == extensions.Length - 1));
        }
        return Next.Continue;
    }

    private Next Mail(string argument)
    {
        if (_state != LmtpState.Ready)
        {
            return Reply(_state == LmtpState.Connected ? LmtpReply.SendLhloFirst : LmtpReply.NestedMail, Next.Continue);
        }
        if (!SmtpCommandParser.TryParseMailFrom(argument, out var mailFrom, out var syntax))
        {
            return Reply(syntax!.Reply, Next.Continue);
        }
        // RFC 1870 §6.1: refuse at once a message announced as too large.
        if (mailFrom!.Size > options.MaxMessageSize)
        {
            return Reply(LmtpReply.MessageTooLarge, Next.Continue);
        }
        // RFC 6531 §3.4. The null reverse-path is fine here: bounces are delivered too.
        if (!mailFrom.SmtpUtf8 && !Ascii.IsValid(mailFrom.ReversePath))
        {
            return Reply(LmtpReply.NonAsciiSender, Next.Continue);
        }
        _transaction = new LmtpTransaction(mailFrom);
        _state = LmtpState.Sender;
        return Reply(LmtpReply.SenderOk, Next.Continue);
    }

    private async Task<Next> RcptAsync(string argument, CancellationToken cancellationToken)
    {
        if (_state is not (LmtpState.Sender or LmtpState.Recipients))
        {
            return Reply(_state == LmtpState.Connected ? LmtpReply.SendLhloFirst : LmtpReply.NeedMailBeforeRcpt, Next.Continue);
        }
        var transaction = _transaction!;
        if (!SmtpCommandParser.TryParseRcptTo(argument, out var rcptTo, out var syntax))
        {
            return Reply(syntax!.Reply, Next.Continue);
        }
        if (transaction.Recipients.Count >= options.MaxRecipients)
        {
            return Reply(LmtpReply.TooManyRecipients, Next.Continue);
        }
        if (!transaction.MailFrom.SmtpUtf8 && !Ascii.IsValid(rcptTo!.ForwardPath))
        {
            return Reply(LmtpReply.NonAsciiRecipient, Next.Continue);
        }
        if (!AddressNormalizer.TryNormalize(rcptTo!.ForwardPath, out var recipient, out _))
        {
            return Reply(LmtpReply.BadRecipientAddress, Next.Continue);
        }
        RecipientKind kind;
        try
        {
            kind = await recipients.ResolveAsync(recipient, cancellationToken);
        }
        catch (DbException e)
        {
            LogStoreUnavailable(e, peer, recipient.ToString());
            return Reply(LmtpReply.StoreUnavailable, Next.Continue);
        }
        var refusal = LmtpReply.RefusalFor(kind);
        if (refusal is not null)
        {
            return Reply(refusal, Next.Continue);
        }
        transaction.Recipients.Add(recipient);
        _state = LmtpState.Recipients;
        return Reply(LmtpReply.RecipientOk, Next.Continue);
    }

    private async Task<Next> DataAsync(string argument, CancellationToken cancellationToken)
    {
        if (argument.Trim().Length > 0)
        {
            return Reply(LmtpReply.SyntaxData, Next.Continue);
        }
        if (_state != LmtpState.Recipients)
        {
            return Reply(_state == LmtpState.Connected ? LmtpReply.SendLhloFirst
                : _state == LmtpState.Ready ? LmtpReply.NeedMailBeforeRcpt
                : LmtpReply.NeedRcptBeforeData, Next.Continue);
        }
        var transaction = _transaction!;
        _transaction = null;
        _state = LmtpState.Ready;
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        FileStream? file = null;
        try
        {
#pragma warning disable CA2000 // disposed on every path below: on a write failure here, else after delivery
            file = spool.Create();
#pragma warning restore CA2000
            await file.WriteAsync(Encoding.UTF8.GetBytes(Received(id)), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (file is not null)
            {
                await file.DisposeAsync();
            }
            return Reply(LmtpReply.InsufficientStorage, Next.Continue);
        }
        await using (file)
        {
            Reply(LmtpReply.StartMailInput);
            if (!await ProtocolConnection.FlushAsync(output, cancellationToken))
            {
                return Next.Close;
            }
            var result = await SmtpDataReader.ReadAsync(input, file, options.MaxMessageSize, options.IdleTimeout, cancellationToken);
            switch (result.Status)
            {
                case DataReadStatus.Disconnected:
                    return Next.Close;
                case DataReadStatus.TimedOut:
                    return Reply(LmtpReply.IdleTimeout, Next.Close);
                case DataReadStatus.TooLarge:
                    return ReplyEach(transaction, LmtpReply.MessageTooLarge);
                case DataReadStatus.StorageFailed:
                    return ReplyEach(transaction, LmtpReply.InsufficientStorage);
            }
            foreach (var reply in await delivery.DeliverAsync(transaction, file, id, fromOtherNode, cancellationToken))
            {
                Reply(reply);
            }
            return Next.Continue;
        }
    }

    private Next Rset()
    {
        _transaction = null;
        if (_state != LmtpState.Connected)
        {
            _state = LmtpState.Ready;
        }
        return Reply(LmtpReply.Ok, Next.Continue);
    }

    /// <summary>RFC 2033 §4.2: after DATA, one reply for every accepted RCPT, even when they are all the same.</summary>
    private Next ReplyEach(LmtpTransaction transaction, string reply)
    {
        foreach (var _ in transaction.Recipients)
        {
            Reply(reply);
        }
        return Next.Continue;
    }

    /// <summary>The trace header of RFC 5321 §4.4, protocol LMTP (RFC 3848); the LHLO name is the MTA's claim and copied safely.</summary>
    private string Received(string id)
    {
        var name = new StringBuilder(Math.Min(_clientName.Length, 255));
        foreach (var c in _clientName.Take(255))
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '[' or ']' or ':' ? c : '?');
        }
        return $"Received: from {name} ({peer})\r\n\tby {hostName} (MailAuth) with LMTP\r\n\tid {id}; {ReceivedHeader.FormatDate(clock.GetUtcNow())}\r\n";
    }

    private bool HasBufferedInput()
    {
        if (!input.TryRead(out var result))
        {
            return false;
        }
        var buffered = result.Buffer.Length > 0;
        input.AdvanceTo(result.Buffer.Start);
        return buffered;
    }

    private void Reply(string line)
    {
        var text = line + "\r\n";
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private Next Reply(string line, Next next)
    {
        Reply(line);
        return next;
    }

    [LoggerMessage(EventId = 1704, Level = LogLevel.Error, Message = "lmtp peer={Peer} RCPT {Recipient}: mailbox database unavailable; answered 451")]
    private partial void LogStoreUnavailable(Exception exception, string peer, string recipient);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Error, Message = "lmtp peer={Peer} command={Command} failed unexpectedly")]
    private partial void LogCommandFailed(Exception exception, string peer, string command);
}
