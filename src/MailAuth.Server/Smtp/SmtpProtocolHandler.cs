using MailAuth.Core.Authentication;
using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sessions;
using MailAuth.Server.Smtp.Commands;
using MailAuth.Server.Smtp.Delivery;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Smtp;

/// <summary>
/// The SMTP submission session (RFC 6409, RFC 5321): reads a bounded line, checks the state
/// table, runs the verb's handler. Replies are buffered and flushed when no more pipelined input
/// is waiting (RFC 2920 §3.2), so a pipelined group gets its replies in one write.
/// </summary>
internal sealed partial class SmtpProtocolHandler : IProtocolHandler
{
    private readonly SmtpOptions _options;
    private readonly string _hostName;
    private readonly Dictionary<string, SmtpCommandHandler> _handlers;
    private readonly ILogger<SmtpProtocolHandler> _logger;

    public SmtpProtocolHandler(
        MailAuthOptions options,
        TlsContext tls,
        MailAuthenticator authenticator,
        RecipientResolver recipients,
        MessageSpool spool,
        SmtpDelivery delivery,
        MailboxSessions sessions,
        TimeProvider clock,
        ILogger<SmtpProtocolHandler> logger)
    {
        _options = options.Smtp;
        _logger = logger;
        _hostName = HostNameOf(options.Smtp);
        _handlers = new Dictionary<string, SmtpCommandHandler>(StringComparer.Ordinal)
        {
            ["EHLO"] = new EhloCommand(tls),
            ["HELO"] = new HeloCommand(),
            ["STARTTLS"] = new StartTlsCommand(tls),
            ["AUTH"] = new AuthCommand(tls, authenticator, sessions),
            ["MAIL"] = new MailCommand(),
            ["RCPT"] = new RcptCommand(recipients, relayConfigured: options.Smtp.RelayHost.Length > 0),
            ["DATA"] = new DataCommand(spool, delivery, recipients, clock, logger),
            ["RSET"] = new RsetCommand(),
            ["NOOP"] = new NoopCommand(),
            ["QUIT"] = new QuitCommand(),
            ["VRFY"] = new VrfyCommand(),
            ["HELP"] = new HelpCommand(),
        };
    }

    /// <summary>The configured name, else the machine's; used in the greeting, EHLO and Received.</summary>
    public static string HostNameOf(SmtpOptions options) =>
        options.HostName.Length > 0 ? options.HostName : System.Net.Dns.GetHostName();

    public async Task RunSessionAsync(ProtocolConnection connection, CancellationToken cancellationToken)
    {
        using var session = new SmtpSession(connection, _options, _hostName);
        session.Reply(SmtpReply.Greeting(_hostName));
        if (!await connection.FlushAsync(cancellationToken))
        {
            return;
        }
        try
        {
            await RunCommandsAsync(session, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // RFC 5321 §3.8: tell the client, so that it retries later rather than guessing.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await connection.WriteAndFlushAsync(SmtpReply.ShuttingDown + "\r\n", grace.Token);
        }
    }

    public async Task RejectAsync(ProtocolConnection connection, string reason, CancellationToken cancellationToken) =>
        await connection.WriteAndFlushAsync(SmtpReply.TooManyConnections + "\r\n", cancellationToken);

    private async Task RunCommandsAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        var connection = session.Connection;
        while (true)
        {
            var line = await ReadLineAsync(session, cancellationToken);
            // Checked after the read: a command that arrived as the session was ended is not run.
            var action = session.IsEnded ? Ended(session) : line.Status switch
            {
                LineStatus.Closed => SmtpAction.Close,
                LineStatus.TimedOut => Reply(session, SmtpReply.IdleTimeout, SmtpAction.Close),
                _ => await HandleLineAsync(session, line, cancellationToken),
            };
            if (action == SmtpAction.Close)
            {
                await connection.FlushAsync(cancellationToken);
                return;
            }
            if (!connection.HasBufferedInput() && !await connection.FlushAsync(cancellationToken))
            {
                return;
            }
        }
    }

    /// <summary>The next line; after AUTH, waiting for it stops when the mailbox's sessions are ended.</summary>
    private async ValueTask<LineResult> ReadLineAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        try
        {
            // Before AUTH an over-long line ends the connection, and no more of it is read.
            var overlong = session.AuthenticatedAddress is null ? OverlongLine.Stop : OverlongLine.Discard;
            return await session.Connection.ReadLineAsync(_options.MaxLineLength, session.IdleTimeout, overlong, session.ReadToken(cancellationToken));
        }
        catch (OperationCanceledException) when (session.IsEnded && !cancellationToken.IsCancellationRequested)
        {
            return new LineResult(LineStatus.Closed, []);
        }
    }

    private SmtpAction Ended(SmtpSession session)
    {
        LogSessionEnded(session.Mailbox!.Reason.LogName(), session.Mailbox.Address.ToString());
        return Reply(session, session.EndedReply(), SmtpAction.Close);
    }

    private async ValueTask<SmtpAction> HandleLineAsync(SmtpSession session, LineResult line, CancellationToken cancellationToken)
    {
        if (session.AuthenticatedAddress is null && ++session.CommandsBeforeLogin > _options.MaxCommandsBeforeLogin)
        {
            return Reply(session, SmtpReply.TooManyCommandsBeforeLogin, SmtpAction.Close);
        }
        if (line.Status == LineStatus.TooLong)
        {
            return session.AuthenticatedAddress is null
                ? Reply(session, SmtpReply.LineTooLongBeforeLogin, SmtpAction.Close)
                : Reply(session, SmtpReply.LineTooLong, SmtpAction.Continue);
        }
        if (!SmtpCommandParser.TryParseLine(line.Line, out var command))
        {
            return Reply(session, SmtpReply.CommandNotUtf8, SmtpAction.Continue);
        }
        if (!_handlers.TryGetValue(command.Verb, out var handler))
        {
            return Reply(session, SmtpReply.CommandUnrecognized, SmtpAction.Continue);
        }
        if (SmtpStateTable.Refusal(session.State, command.Verb) is { } refusal)
        {
            return Reply(session, refusal, SmtpAction.Continue);
        }
        try
        {
            return await handler.HandleAsync(session, command.Argument, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A bug or an unexpected failure (the database, say) costs the client one command, not the session.
            LogCommandFailed(e, session.AuthenticatedAddress?.ToString() ?? "", command.Verb);
            // Once DATA has begun the client's message may still be arriving: it must never be read as commands.
            return command.Verb == "DATA"
                ? Reply(session, SmtpReply.InternalErrorClosing, SmtpAction.Close)
                : Reply(session, SmtpReply.InternalError, SmtpAction.Continue);
        }
    }

    private static SmtpAction Reply(SmtpSession session, string reply, SmtpAction action)
    {
        session.Reply(reply);
        return action;
    }

    [LoggerMessage(EventId = 403, Level = LogLevel.Error, Message = "smtp address={Address} command={Command} failed unexpectedly")]
    private partial void LogCommandFailed(Exception exception, string address, string command);

    [LoggerMessage(EventId = 311, Level = LogLevel.Information, Message = "smtp session ended reason={Reason} address={Address}")]
    private partial void LogSessionEnded(string reason, string address);
}
