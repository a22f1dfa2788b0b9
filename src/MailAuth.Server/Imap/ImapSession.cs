using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Core.Authentication;
using MailAuth.Server.Hosting;
using MailAuth.Server.Imap.Commands;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sessions;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Imap;

/// <summary>
/// One IMAP connection from greeting to goodbye: reads commands (with their literals, within the
/// limits), checks the state table, and hands each command to its handler. What a command
/// means lives in the handlers; how lines and literals arrive lives in Parsing/ImapCommandReader.cs.
/// </summary>
internal sealed partial class ImapSession(
    ProtocolConnection connection,
    ImapOptions options,
    TlsContext tls,
    MailAuthenticator authenticator,
    MaildirLocator locator,
    MaildirFolders folders,
    ImapCommands commands,
    MailboxSessions sessions,
    MailboxQuota quota,
    ILogger logger)
{
    /// <summary>The running command's tagged response, held back until its untagged updates are out.</summary>
    private string? _tagged;

    /// <summary>The session's entry among its mailbox's sessions, from login on.</summary>
    private MailboxSession? _mailbox;

    /// <summary>The server's token and <see cref="MailboxSession.Ended"/> together: waiting for input stops at either.</summary>
    private CancellationTokenSource? _readCancellation;

    /// <summary>True once the BYE of an ended session is written.</summary>
    private bool _endAnnounced;

    public ProtocolConnection Connection { get; } = connection;

    public ImapOptions Options { get; } = options;

    public TlsContext Tls { get; } = tls;

    public MailAuthenticator Authenticator { get; } = authenticator;

    /// <summary>The logged-in mailbox's quota (RFC 9208), checked by APPEND and COPY.</summary>
    public MailboxQuota Quota { get; } = quota;

    public ImapState State { get; private set; } = ImapState.NotAuthenticated;

    public EmailAddress? User { get; private set; }

    public MaildirStore? Store { get; private set; }

    public SelectedFolder? Selected { get; private set; }

    public int FailedAuthentications { get; set; }

    /// <summary>Cancelled when the mailbox's credential changed or an admin ended its sessions.</summary>
    public CancellationToken Ended => _mailbox?.Ended ?? CancellationToken.None;

    public bool IsEnded => _mailbox?.IsEnded == true;

    /// <summary>Set by a handler when the connection must end after its response (LOGOUT, BYE).</summary>
    public bool Closing { get; set; }

    public bool AllowsPlaintextAuthentication => Tls.AllowsPlaintextAuthentication(Connection);

    public TimeSpan IdleTimeout => State == ImapState.NotAuthenticated ? Options.PreLoginIdleTimeout : Options.IdleTimeout;

    public MaildirStore RequireStore() => Store ?? throw new InvalidOperationException("not authenticated");

    public SelectedFolder RequireSelected() => Selected ?? throw new InvalidOperationException("no folder selected");

    /// <summary>The capabilities for the current state (RFC 3501 §7.2.1), without the leading "CAPABILITY".</summary>
    public string Capabilities()
    {
        var capabilities = new List<string> { "IMAP4rev1", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE" };
        if (State == ImapState.NotAuthenticated)
        {
            if (!Connection.IsSecure && Connection.ListenerName != "imaps")
            {
                capabilities.Add("STARTTLS");
            }
            if (AllowsPlaintextAuthentication)
            {
                capabilities.AddRange(Sasl.SaslMechanism.Names.Select(name => "AUTH=" + name));
            }
            else
            {
                capabilities.Add("LOGINDISABLED");
            }
        }
        else
        {
            capabilities.AddRange(["UIDPLUS", "MOVE", "NAMESPACE", "UNSELECT", "SPECIAL-USE", "CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "NOTIFY"]);
            capabilities.AddRange(["ESEARCH", "SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "CONTEXT=SEARCH"]);
            capabilities.AddRange(["BINARY", "MULTIAPPEND", "CATENATE"]);
            capabilities.AddRange(["CONDSTORE", "QRESYNC"]);
            capabilities.AddRange(["QUOTA", "QUOTA=RES-STORAGE"]);
        }
        return string.Join(' ', capabilities);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Write($"* OK [CAPABILITY {Capabilities()}] MailAuth ready\r\n");
        if (!await Connection.FlushAsync(cancellationToken))
        {
            return;
        }
        try
        {
            while (!Closing)
            {
                // Counts the commands before login too (Parsing/ImapCommandReader.cs).
                using var command = await NextCommandAsync(cancellationToken);
                if (AnnounceEnd())
                {
                    // Ended while waiting, or while this command was arriving: it is not run.
                    await Connection.FlushAsync(cancellationToken);
                    break;
                }
                if (command is null)
                {
                    break;
                }
                // A command in flight is not cancelled by the end of the session: it completes, then BYE.
                await ExecuteAsync(command, cancellationToken);
                AnnounceEnd();
                if (!await Connection.FlushAsync(cancellationToken))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The server is stopping: say so (RFC 3501 §7.1.5) instead of just dropping the connection.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            Write("* BYE Server shutting down\r\n");
            await Connection.FlushAsync(grace.Token);
        }
        finally
        {
            Selected = null;
            WatchNewMail(folders, null);
            _mailbox?.Dispose();
            _readCancellation?.Dispose();
        }
    }

    /// <summary>The next command; null when the session must end, including when its mailbox's sessions were ended meanwhile.</summary>
    private async Task<ImapCommandText?> NextCommandAsync(CancellationToken cancellationToken)
    {
        if (_mailbox is null)
        {
            return await ReadCommandAsync(cancellationToken);
        }
        _readCancellation ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _mailbox.Ended);
        try
        {
            return await WaitForCommandAsync(_readCancellation.Token) ? await ReadCommandAsync(_readCancellation.Token) : null;
        }
        catch (OperationCanceledException) when (_mailbox.IsEnded && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// When the mailbox's sessions were ended (credential changed, kick): writes the BYE once and
    /// marks the session closing. True when the session is ended.
    /// </summary>
    private bool AnnounceEnd()
    {
        if (_mailbox is not { IsEnded: true } mailbox)
        {
            return false;
        }
        Closing = true;
        if (!_endAnnounced && State != ImapState.Logout)
        {
            _endAnnounced = true;
            Write($"* BYE {mailbox.Reason.ClientText()}\r\n");
            LogSessionEnded(mailbox.Reason.LogName(), mailbox.Address.ToString());
        }
        return true;
    }

    private async Task ExecuteAsync(ImapCommandText text, CancellationToken cancellationToken)
    {
        var reader = new ImapReader(text);
        string tag;
        string name;
        try
        {
            tag = reader.ReadTag();
            reader.ExpectSpace();
            name = reader.ReadAtom().ToUpperInvariant();
            if (name == "UID")
            {
                reader.ExpectSpace();
                name = "UID " + reader.ReadAtom().ToUpperInvariant();
            }
        }
        catch (ImapSyntaxException)
        {
            Write("* BAD Command line must start with a tag and a command name\r\n");
            return;
        }
        var handler = commands.Find(name);
        if (handler is null)
        {
            Tagged(tag, ImapStatus.Bad, $"Unknown command {Sanitize(name)}");
        }
        else if (!ImapStateTable.IsAllowed(State, name))
        {
            Tagged(tag, ImapStatus.Bad, $"{name} is not allowed {StateDescription()}");
        }
        else if (Selected is not null && !Directory.Exists(Selected.Folder.CurPath))
        {
            // Deleted or renamed by another session: sequence numbers mean nothing any more (RFC 3501 §7.1.5).
            Write("* BYE The selected folder was deleted or renamed\r\n");
            Closing = true;
        }
        else
        {
            await RunAsync(handler, tag, name, reader, cancellationToken);
        }
        SendTagged();
    }

    private async Task RunAsync(IImapCommand handler, string tag, string name, ImapReader reader, CancellationToken cancellationToken)
    {
        try
        {
            Selected?.Refresh();
            await handler.ExecuteAsync(this, tag, reader, cancellationToken);
        }
        catch (ImapSyntaxException e)
        {
            Tagged(tag, ImapStatus.Bad, e.Message);
        }
        catch (ImapLimitException e)
        {
            Tagged(tag, ImapStatus.No, e.Message, "LIMIT");
        }
        catch (KeywordLimitException e)
        {
            Tagged(tag, ImapStatus.No, e.Message, "LIMIT");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && (Store is not null || name is "LOGIN" or "AUTHENTICATE"))
        {
            // The Maildir could not be read or written (disk full, permissions): the command fails, the session goes on.
            LogStoreError(e, User?.ToString() ?? "", name);
            Tagged(tag, ImapStatus.No, "The mail store failed, try again later", "SERVERBUG");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A bug or an unexpected failure (the database, say) costs the client one command, not the session.
            LogCommandFailed(e, User?.ToString() ?? "", name);
            Tagged(tag, ImapStatus.No, "Internal server error, the command failed", "SERVERBUG");
            if (handler is IdleCommand)
            {
                // IDLE may have left its read of DONE pending: the input can no longer be read in order.
                Write("* BYE Internal server error, closing the connection\r\n");
                Closing = true;
            }
        }
        // Changes by other sessions go out before the tagged response, so the client has them when the command completes.
        if (Selected is not null && !Closing && handler.SendsUpdatesAfter)
        {
            Selected.WriteUpdates(this, allowExpunge: handler.AllowsExpungeUpdates);
        }
    }

    /// <summary>
    /// The tagged completion of the running command, <c>tag STATUS [code] text</c>; sent after any
    /// untagged updates, when the command has run.
    /// </summary>
    public void Tagged(string tag, ImapStatus status, string text, string? code = null)
    {
        var keyword = status switch
        {
            ImapStatus.Ok => "OK",
            ImapStatus.No => "NO",
            _ => "BAD",
        };
        _tagged = code is null ? $"{tag} {keyword} {text}\r\n" : $"{tag} {keyword} [{code}] {text}\r\n";
    }

    private void SendTagged()
    {
        if (_tagged is not null)
        {
            Write(_tagged);
            _tagged = null;
        }
    }

    private string StateDescription() => State switch
    {
        ImapState.NotAuthenticated => "before login",
        ImapState.Authenticated => "without a selected folder",
        _ => "now",
    };

    /// <summary>
    /// Login succeeded: registers the session with its mailbox's sessions, then opens the Maildir,
    /// creating it and its special-use folders the first time. False (after BYE) when a change
    /// committed since the login read the credential has already ended the session.
    /// </summary>
    public async Task<bool> LoggedInAsync(EmailAddress address, long changeLogPosition, CancellationToken cancellationToken)
    {
        var mailbox = await sessions.OpenAsync(address, changeLogPosition, cancellationToken);
        try
        {
            if (mailbox.IsEnded)
            {
                // Not a session yet: the BYE is written here, since AnnounceEnd only knows registered ones.
                Write($"* BYE {mailbox.Reason.ClientText()}\r\n");
                LogSessionEnded(mailbox.Reason.LogName(), address.ToString());
                Closing = true;
                mailbox.Dispose();
                return false;
            }
            var store = new MaildirStore(locator.InboxPath(address), folders);
            store.EnsureCreated();
            (User, Store, State, _mailbox) = (address, store, ImapState.Authenticated, mailbox);
            return true;
        }
        catch
        {
            mailbox.Dispose();
            throw;
        }
    }

    public void Select(SelectedFolder folder)
    {
        Selected = folder;
        WatchNewMail(folders, folder);
        State = ImapState.Selected;
    }

    public void Deselect()
    {
        Selected = null;
        WatchNewMail(folders, null);
        if (State == ImapState.Selected)
        {
            State = ImapState.Authenticated;
        }
    }

    public void Logout() => State = ImapState.Logout;

    public void Write(string text) => Connection.Write(text);

    public void Write(ReadOnlySpan<byte> bytes) => Connection.Write(bytes);

    public ValueTask<bool> FlushAsync(CancellationToken cancellationToken) => Connection.FlushAsync(cancellationToken);

    /// <summary>Client text echoed in a response: printable ASCII only, bounded.</summary>
    public static string Sanitize(string text)
    {
        var clean = new StringBuilder();
        foreach (var c in text.Take(40))
        {
            clean.Append(c is >= ' ' and < '\x7f' ? c : '?');
        }
        return clean.ToString();
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "imap session ended reason={Reason} address={Address}")]
    private partial void LogSessionEnded(string reason, string address);

    [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "imap address={Address} command={Command} failed on the mail store")]
    private partial void LogStoreError(Exception exception, string address, string command);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "imap address={Address} command={Command} failed unexpectedly")]
    private partial void LogCommandFailed(Exception exception, string address, string command);
}
