using MailAuth.Core.Addresses;
using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sessions;

namespace MailAuth.Server.Smtp;

/// <summary>One accepted recipient of the current transaction.</summary>
internal sealed record SmtpRecipient(EmailAddress Address, string ForwardPath, bool IsLocal);

/// <summary>The envelope being built by MAIL and RCPT; dropped by RSET, EHLO, STARTTLS and after DATA.</summary>
internal sealed class SmtpTransaction(EmailAddress sender, MailFromArguments mailFrom)
{
    public EmailAddress Sender { get; } = sender;

    public MailFromArguments MailFrom { get; } = mailFrom;

    public List<SmtpRecipient> Recipients { get; } = [];

    /// <summary>Accepted RCPT commands, duplicates included: the recipient limit bounds the work a client can ask for.</summary>
    public int AcceptedRcptCommands { get; set; }
}

/// <summary>What a command handler tells the session loop.</summary>
internal enum SmtpAction
{
    Continue,

    /// <summary>The replies written so far are flushed and the connection closed.</summary>
    Close,
}

/// <summary>The state of one SMTP connection; the handlers read and change it.</summary>
internal sealed class SmtpSession(ProtocolConnection connection, SmtpOptions options, string hostName) : IDisposable
{
    /// <summary>The server's token and <see cref="MailboxSession.Ended"/> together: reading input stops at either.</summary>
    private CancellationTokenSource? _readCancellation;

    public ProtocolConnection Connection { get; } = connection;

    public SmtpOptions Options { get; } = options;

    /// <summary>Our name, in the greeting, EHLO and Received headers.</summary>
    public string HostName { get; } = hostName;

    /// <summary>Changed only through <see cref="Advance"/>, as <see cref="SmtpStateTable"/> declares.</summary>
    public SmtpState State { get; private set; } = SmtpState.Connected;

    /// <summary>The name the client gave in EHLO/HELO.</summary>
    public string ClientName { get; set; } = "";

    public EmailAddress? AuthenticatedAddress { get; set; }

    /// <summary>The session's entry among its mailbox's sessions, from AUTH on.</summary>
    public MailboxSession? Mailbox { get; private set; }

    /// <summary>True when the mailbox's credential changed or an admin ended its sessions.</summary>
    public bool IsEnded => Mailbox?.IsEnded == true;

    public SmtpTransaction? Transaction { get; set; }

    public int FailedAuthentications { get; set; }

    public int CommandsBeforeLogin { get; set; }

    public TimeSpan IdleTimeout => AuthenticatedAddress is null ? Options.PreLoginIdleTimeout : Options.IdleTimeout;

    /// <summary>Buffers one reply line; <paramref name="line"/> carries no CRLF.</summary>
    public void Reply(string line) => Connection.Write(line + "\r\n");

    /// <summary>Authenticated as <paramref name="mailbox"/>'s address.</summary>
    public void LoggedIn(MailboxSession mailbox)
    {
        Mailbox = mailbox;
        AuthenticatedAddress = mailbox.Address;
        Advance(SmtpEvent.LoggedIn);
    }

    /// <summary>Reports what a handler did; the state table says which state follows.</summary>
    public void Advance(SmtpEvent happened) => State = SmtpStateTable.Next(State, happened);

    /// <summary>The token to read client input with: after AUTH it is also cancelled when the session is ended.</summary>
    public CancellationToken ReadToken(CancellationToken cancellationToken)
    {
        if (Mailbox is null)
        {
            return cancellationToken;
        }
        _readCancellation ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Mailbox.Ended);
        return _readCancellation.Token;
    }

    /// <summary>The reply that ends a session whose mailbox's sessions were ended.</summary>
    public string EndedReply() => SmtpReply.SessionEnded(Mailbox!.Reason.ClientText());

    public void Dispose()
    {
        Mailbox?.Dispose();
        _readCancellation?.Dispose();
    }

    /// <summary>Back to the state after EHLO (or after AUTH when authenticated), the envelope dropped.</summary>
    public void ResetTransaction()
    {
        Transaction = null;
        Advance(SmtpEvent.TransactionEnded);
    }

    /// <summary>RFC 3207 §4.2: after the TLS handshake the client starts again from EHLO, knowing nothing.</summary>
    public void ForgetEverything()
    {
        Advance(SmtpEvent.TlsStarted);
        ClientName = "";
        AuthenticatedAddress = null;
        Transaction = null;
    }
}

/// <summary>One SMTP verb's behaviour; found through the verb map, run only when the state table allows it.</summary>
internal abstract class SmtpCommandHandler
{
    public abstract ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken);
}
