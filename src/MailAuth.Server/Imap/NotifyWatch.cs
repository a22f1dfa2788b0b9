using System.Text;
using MailAuth.Server.Imap.Commands;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// A session's NOTIFY SET (RFC 5465): which mailboxes it watches for which events, what it last
/// told the client about each, and the untagged responses for what changed since. It wakes on the
/// mailbox's <see cref="MailboxSignal"/> (every change made in this process) and looks only at
/// folders whose in-memory version moved; the disk is read for mail delivered by other processes
/// only as a fallback, once per poll interval for INBOX and one other watched folder in turn.
/// </summary>
internal sealed class NotifyWatch
{
    /// <summary>NOTIFY SET naming more mailboxes with message events than this is refused with NO [NOTIFICATIONOVERFLOW].</summary>
    public const int MaxMailboxes = 1000;

    /// <summary>More pending folder-list, subscription and STATUS responses than this at once turn notifications off (RFC 5465 §5.8).</summary>
    public const int MaxPending = 1000;

    /// <summary>More new messages at once to FETCH for MessageNew than this turn notifications off: the client can FETCH them itself.</summary>
    public const int MaxNewMessageFetches = 100;

    private readonly NotifyRequest _request;
    private readonly MaildirStore _store;
    private readonly TimeSpan _pollInterval;
    private readonly Dictionary<string, WatchedFolder> _watched = new(StringComparer.Ordinal);
    private long _pulses;
    private long _eventCursor;
    private string? _selectedName;
    private DateTime _lastPoll = DateTime.UtcNow;
    private int _pollTurn;

    public NotifyWatch(NotifyRequest request, MaildirStore store, string? selectedName, TimeSpan pollInterval)
    {
        (_request, _store, _pollInterval) = (request, store, pollInterval);
        _pulses = store.Signal.Pulses;
        _eventCursor = store.Signal.LastSequence;
        Rebuild(selectedName);
    }

    /// <summary>True when more than <see cref="MaxMailboxes"/> mailboxes would be watched for message events: none is.</summary>
    public bool TooMany { get; private set; }

    /// <summary>NOTIFY SET STATUS (RFC 5465 §3.1): the STATUS of every watched mailbox but the selected one.</summary>
    public string InitialStatus()
    {
        var output = new StringBuilder();
        foreach (var (name, watched) in _watched)
        {
            // RFC 5465 §5.2: with CONDSTORE, a client watching FlagChange learns of them by HIGHESTMODSEQ.
            var modSeq = watched.Group.Events.HasFlag(NotifyEvents.FlagChange) ? $" HIGHESTMODSEQ {watched.HighestModSeq}" : "";
            output.Append($"* STATUS {ImapFormat.AString(name)} (MESSAGES {watched.Messages} UIDNEXT {watched.UidNext} UIDVALIDITY {watched.UidValidity}{modSeq})\r\n");
        }
        return output.ToString();
    }

    /// <summary>Completes when the mailbox changes in this process, or when the fallback poll is due.</summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        var due = _lastPoll + _pollInterval - DateTime.UtcNow;
        var poll = due > TimeSpan.Zero ? Task.Delay(due, cancellationToken) : Task.CompletedTask;
        return Task.WhenAny(_store.Signal.WaitAsync(_pulses, cancellationToken), poll);
    }

    /// <summary>
    /// Writes what changed since the last call (the caller flushes). On overflow it writes
    /// <c>OK [NOTIFICATIONOVERFLOW]</c> and turns NOTIFY off for the session (§5.8).
    /// </summary>
    public async Task WriteAsync(ImapSession session, CancellationToken cancellationToken)
    {
        _pulses = _store.Signal.Pulses;
        var poll = DateTime.UtcNow - _lastPoll >= _pollInterval;
        if (poll)
        {
            _lastPoll = DateTime.UtcNow;
        }
        var pending = new List<string>();
        var (events, lost) = _store.Signal.EventsAfter(_eventCursor);
        if (lost)
        {
            Overflow(session);
            return;
        }
        if (events.Count > 0)
        {
            _eventCursor = events[^1].Sequence;
            MailboxEvents(events, pending);
            Rebuild(session.Selected?.Name);
        }
        else if (session.Selected?.Name != _selectedName)
        {
            Rebuild(session.Selected?.Name);
        }
        pending.AddRange(FolderChanges(poll));
        if (TooMany || pending.Count > MaxPending)
        {
            Overflow(session);
            return;
        }
        foreach (var line in pending)
        {
            session.Write(line);
        }
        if (session.Selected is { } selected && GroupFor(selected.Name, selected: true) is { } group && (group.Events & NotifyGroup.MessageEvents) != 0
            && !await SelectedChangesAsync(session, selected, group, cancellationToken))
        {
            Overflow(session);
        }
    }

    /// <summary>
    /// The selected mailbox's EXPUNGE (only for SELECTED: SELECTED-DELAYED keeps them for a command
    /// that may announce them, §6.1.2), EXISTS and FETCH FLAGS, then the FETCH of new messages; false on overflow.
    /// </summary>
    private static async Task<bool> SelectedChangesAsync(ImapSession session, SelectedFolder selected, NotifyGroup group, CancellationToken cancellationToken)
    {
        var highest = selected.Count == 0 ? 0 : selected.Uids[^1];
        try
        {
            selected.WriteUpdates(session, allowExpunge: group.Filter == NotifyFilter.Selected, reportFlags: group.Events.HasFlag(NotifyEvents.FlagChange));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // Deleted or renamed by another session: the next command ends the session with BYE.
        }
        var arrived = Enumerable.Range(0, selected.Count).Where(i => selected.Uids[i] > highest).ToList();
        if (arrived.Count == 0 || group.FetchAttributes.Count == 0)
        {
            return true;
        }
        if (arrived.Count > MaxNewMessageFetches)
        {
            return false;
        }
        if ((await FetchCommand.WriteAsync(session, selected, arrived, group.FetchAttributes, new HashSet<uint>(), cancellationToken)).ConnectionFailed)
        {
            session.Closing = true;
        }
        return true;
    }

    private static void Overflow(ImapSession session)
    {
        session.Write("* OK [NOTIFICATIONOVERFLOW] Too many changes at once: notifications are off, NOTIFY SET to have them again\r\n");
        session.Notifications = null;
    }

    /// <summary>The first group naming the mailbox (RFC 5465 §6: the first specifier that applies wins).</summary>
    private NotifyGroup? GroupFor(string name, bool selected, IReadOnlySet<string>? subscriptions = null)
    {
        foreach (var group in _request.Groups)
        {
            if (selected ? group.IsSelected : !group.IsSelected && group.Names(name, subscriptions ?? EmptySet))
            {
                return group;
            }
        }
        return null;
    }

    private static readonly IReadOnlySet<string> EmptySet = new HashSet<string>();

    /// <summary>Takes the watched set afresh (after a folder-list change or another selection), keeping what is known of folders still watched.</summary>
    private void Rebuild(string? selectedName)
    {
        _selectedName = selectedName;
        var subscriptions = _request.Groups.Any(g => g.Filter == NotifyFilter.Subscribed) ? _store.Subscriptions() : [];
        var previous = new Dictionary<string, WatchedFolder>(_watched, StringComparer.Ordinal);
        _watched.Clear();
        var candidates = new List<(string Name, NotifyGroup Group)>();
        foreach (var folder in _store.List())
        {
            if (folder.Selectable && folder.Name != selectedName
                && GroupFor(folder.Name, selected: false, subscriptions) is { } group && (group.Events & NotifyGroup.MessageEvents) != 0)
            {
                candidates.Add((folder.Name, group));
            }
        }
        // Checked before any folder is read: each watched folder is read once to know where it stands.
        TooMany = candidates.Count > MaxMailboxes;
        if (TooMany)
        {
            return;
        }
        foreach (var (name, group) in candidates)
        {
            if (previous.TryGetValue(name, out var known) && known.Group == group)
            {
                _watched[name] = known;
            }
            else if (_store.Open(name) is { } opened)
            {
                _watched[name] = new WatchedFolder(opened, group);
            }
        }
    }

    /// <summary>LIST responses for folders created, deleted, renamed (with OLDNAME) and (un)subscribed by other sessions (§5.4, §5.5).</summary>
    private void MailboxEvents(List<MailboxEvent> events, List<string> pending)
    {
        var relevant = events.Where(e => !ReferenceEquals(e.Origin, _store)).ToList();
        if (relevant.Count == 0)
        {
            return;
        }
        var subscriptions = _store.Subscriptions();
        var folders = _store.List().ToDictionary(f => f.Name, StringComparer.Ordinal);
        foreach (var change in relevant)
        {
            var wanted = change.Kind is MailboxEventKind.Subscribed or MailboxEventKind.Unsubscribed ? NotifyEvents.SubscriptionChange : NotifyEvents.MailboxName;
            var group = GroupFor(change.Name, selected: false, subscriptions) ?? (change.OldName is { } old ? GroupFor(old, selected: false, subscriptions) : null);
            if (group is null || !group.Events.HasFlag(wanted))
            {
                continue;
            }
            var attributes = folders.TryGetValue(change.Name, out var folder) ? ListCommand.Attributes(folder) : [@"\NonExistent"];
            if (subscriptions.Contains(change.Name))
            {
                attributes.Add(@"\Subscribed");
            }
            var line = $"* LIST ({string.Join(' ', attributes)}) \"{MaildirStore.Delimiter}\" {ImapFormat.AString(change.Name)}";
            if (change.Kind == MailboxEventKind.Renamed)
            {
                line += $" (\"OLDNAME\" ({ImapFormat.AString(change.OldName!)}))";
            }
            pending.Add(line + "\r\n");
        }
    }

    /// <summary>STATUS for watched folders whose messages (MessageNew, MessageExpunge) or unseen count (FlagChange, §5.1) changed.</summary>
    private List<string> FolderChanges(bool poll)
    {
        var lines = new List<string>();
        var others = _watched.Keys.Where(n => n != MaildirStore.Inbox).ToList();
        var polled = poll && others.Count > 0 ? others[_pollTurn++ % others.Count] : null;
        foreach (var (name, watched) in _watched.ToList())
        {
            var folder = watched.Folder;
            var due = folder.Version != watched.Version || folder.DeliveryPending || (poll && (name == MaildirStore.Inbox || name == polled));
            if (!due)
            {
                continue;
            }
            FolderSnapshot snapshot;
            try
            {
                snapshot = folder.Synchronize();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _watched.Remove(name); // Deleted meanwhile; its MailboxName event says so.
                continue;
            }
            var unseen = watched.Group.Events.HasFlag(NotifyEvents.FlagChange) ? snapshot.Unseen : 0;
            var items = new List<string>();
            if (snapshot.UidValidity != watched.UidValidity || snapshot.Messages.Count != watched.Messages || snapshot.UidNext != watched.UidNext)
            {
                items.Add($"MESSAGES {snapshot.Messages.Count} UIDNEXT {snapshot.UidNext}");
                if (snapshot.UidValidity != watched.UidValidity)
                {
                    items.Add($"UIDVALIDITY {snapshot.UidValidity}");
                }
            }
            if (unseen != watched.Unseen)
            {
                items.Add($"UNSEEN {unseen}");
            }
            if (watched.Group.Events.HasFlag(NotifyEvents.FlagChange) && snapshot.HighestModSeq != watched.HighestModSeq)
            {
                items.Add($"HIGHESTMODSEQ {snapshot.HighestModSeq}");
            }
            watched.Update(snapshot, unseen);
            if (items.Count > 0)
            {
                lines.Add($"* STATUS {ImapFormat.AString(name)} ({string.Join(' ', items)})\r\n");
            }
        }
        return lines;
    }

    /// <summary>A watched folder and what the client was last told of it.</summary>
    private sealed class WatchedFolder
    {
        public WatchedFolder(MaildirFolder folder, NotifyGroup group)
        {
            (Folder, Group) = (folder, group);
            var snapshot = folder.Synchronize();
            Update(snapshot, group.Events.HasFlag(NotifyEvents.FlagChange) ? snapshot.Unseen : 0);
        }

        public MaildirFolder Folder { get; }

        public NotifyGroup Group { get; }

        public long Version { get; private set; }

        public uint UidValidity { get; private set; }

        public uint UidNext { get; private set; }

        public int Messages { get; private set; }

        public int Unseen { get; private set; }

        public ulong HighestModSeq { get; private set; }

        public void Update(FolderSnapshot snapshot, int unseen) =>
            (Version, UidValidity, UidNext, Messages, Unseen, HighestModSeq) = (snapshot.Version, snapshot.UidValidity, snapshot.UidNext, snapshot.Messages.Count, unseen, snapshot.HighestModSeq);
    }
}
