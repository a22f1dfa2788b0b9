using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Server.Sessions;

/// <summary>Why a session was ended; each has the text the client is shown (IMAP <c>* BYE</c>, SMTP <c>421 4.7.0</c>).</summary>
internal enum SessionEndReason
{
    /// <summary>A password change, disable or removal of the mailbox, by this process or another.</summary>
    CredentialsChanged,

    /// <summary><c>mailbox kick</c>.</summary>
    Kicked,
}

internal static class SessionEndReasonText
{
    public static string ClientText(this SessionEndReason reason) => reason switch
    {
        SessionEndReason.Kicked => "Session ended by the administrator",
        _ => "Your credentials changed, log in again",
    };

    /// <summary>The <c>reason=</c> word of the log lines.</summary>
    public static string LogName(this SessionEndReason reason) => reason switch
    {
        SessionEndReason.Kicked => "kicked",
        _ => "credentials-changed",
    };
}

/// <summary>
/// The authenticated IMAP and SMTP sessions of this process, by mailbox. A session opens its
/// entry right after its login succeeded and before it answers, and disposes it when it ends.
/// <see cref="MailboxChangeWatcher"/> ends the sessions that a later change of their mailbox
/// invalidates; <c>mailbox kick</c> ends them all on demand.
/// </summary>
internal sealed class MailboxSessions(IMailboxChangeFeed feed)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<EmailAddress, List<MailboxSession>> _byAddress = [];
    private long _watchedUpTo;

    /// <summary>The change-log position up to which the watcher has read (and ended, or is ending) sessions.</summary>
    public long WatchedUpTo
    {
        get
        {
            lock (_gate)
            {
                return _watchedUpTo;
            }
        }
    }

    /// <summary>The watcher has read every change up to <paramref name="position"/>; called before it ends their sessions.</summary>
    public void Watched(long position)
    {
        lock (_gate)
        {
            _watchedUpTo = Math.Max(_watchedUpTo, position);
        }
    }

    /// <summary>Open sessions of every mailbox (ended ones included until they have closed), for the metrics.</summary>
    public int Total
    {
        get
        {
            lock (_gate)
            {
                return _byAddress.Values.Sum(sessions => sessions.Count);
            }
        }
    }

    /// <summary>Open sessions of <paramref name="address"/> (ended ones included until they have closed).</summary>
    public int Count(EmailAddress address)
    {
        lock (_gate)
        {
            return _byAddress.TryGetValue(address, out var sessions) ? sessions.Count : 0;
        }
    }

    /// <summary>
    /// Registers a session opened by a login whose credential was read at change-log position
    /// <paramref name="changeLogPosition"/>. The result is already ended (the login must not be
    /// answered with success) when a change that ends sessions was committed after that read.
    /// </summary>
    public async Task<MailboxSession> OpenAsync(EmailAddress address, long changeLogPosition, CancellationToken cancellationToken)
    {
        var session = new MailboxSession(this, address, changeLogPosition);
        long watched;
        lock (_gate)
        {
            if (!_byAddress.TryGetValue(address, out var sessions))
            {
                _byAddress[address] = sessions = [];
            }
            sessions.Add(session);
            watched = _watchedUpTo;
        }
        // The watcher publishes its position before it ends sessions. If it is past this login's
        // snapshot, it may have handled a newer change of this mailbox before the session was
        // listed above, and it never reads a change twice: only the store can tell.
        if (watched > changeLogPosition)
        {
            try
            {
                if (await feed.EndsSessionsAfterAsync(address, changeLogPosition, cancellationToken))
                {
                    session.End(SessionEndReason.CredentialsChanged);
                }
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }
        return session;
    }

    /// <summary>Ends the sessions of <paramref name="address"/> opened before change <paramref name="position"/>; returns how many.</summary>
    public int End(EmailAddress address, long position, SessionEndReason reason) =>
        EndWhere(address, session => session.ChangeLogPosition < position, reason);

    /// <summary>Ends every session of <paramref name="address"/>; returns how many.</summary>
    public int EndAll(EmailAddress address, SessionEndReason reason) => EndWhere(address, _ => true, reason);

    private int EndWhere(EmailAddress address, Func<MailboxSession, bool> selects, SessionEndReason reason)
    {
        List<MailboxSession> selected;
        lock (_gate)
        {
            if (!_byAddress.TryGetValue(address, out var sessions))
            {
                return 0;
            }
            selected = [.. sessions.Where(selects)];
        }
        // Outside the lock: cancelling runs the sessions' cancellation callbacks.
        return selected.Count(session => session.End(reason));
    }

    internal void Remove(MailboxSession session)
    {
        lock (_gate)
        {
            if (_byAddress.TryGetValue(session.Address, out var sessions) && sessions.Remove(session) && sessions.Count == 0)
            {
                _byAddress.Remove(session.Address);
            }
        }
    }
}

/// <summary>
/// One authenticated session's entry in <see cref="MailboxSessions"/>. <see cref="Ended"/> is
/// cancelled when the session must end; the session stops waiting for input then, but lets a
/// command already running complete (a Maildir move or copy is never cut in half).
/// </summary>
internal sealed class MailboxSession : IDisposable
{
    private const int NotEnded = -1;

    private readonly MailboxSessions _owner;

    // Never disposed: it has no timer, and a watcher may cancel it while the session is closing.
    private readonly CancellationTokenSource _ended = new();
    private int _reason = NotEnded;

    internal MailboxSession(MailboxSessions owner, EmailAddress address, long changeLogPosition)
    {
        _owner = owner;
        Address = address;
        ChangeLogPosition = changeLogPosition;
    }

    public EmailAddress Address { get; }

    /// <summary>The change-log position of the credential the login verified.</summary>
    public long ChangeLogPosition { get; }

    public CancellationToken Ended => _ended.Token;

    public bool IsEnded => Volatile.Read(ref _reason) != NotEnded;

    /// <summary>Why the session was ended; meaningful once <see cref="IsEnded"/>.</summary>
    public SessionEndReason Reason => (SessionEndReason)Volatile.Read(ref _reason);

    /// <summary>True when this call ended the session, false when it had been ended already.</summary>
    internal bool End(SessionEndReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, NotEnded) != NotEnded)
        {
            return false;
        }
        _ended.Cancel();
        return true;
    }

    public void Dispose() => _owner.Remove(this);
}
