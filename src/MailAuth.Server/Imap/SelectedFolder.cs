using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// A session's view of its selected folder: the sequence numbers it has announced and the flags
/// it last reported. The shared <see cref="MaildirFolder"/> moves on; <see cref="WriteUpdates"/>
/// brings the client up to date with EXPUNGE (or VANISHED), EXISTS, RECENT, FLAGS and FETCH
/// FLAGS (RFC 3501 §7, RFC 7162 §3.2.10). The messages themselves are the folder's shared snapshot
/// (UID-ordered, looked up by binary search); a session keeps only its UIDs, \Recent and what it
/// reported beyond the snapshot, so a command costs nothing per message when the folder did not change.
/// </summary>
internal sealed class SelectedFolder
{
    private readonly List<uint> _uids = [];

    /// <summary>Every flag change up to this mod-sequence has been reported (or the message was new to the session).</summary>
    private ulong _reportedModSeq;

    /// <summary>Messages whose flags were reported (STORE, FETCH, EXISTS) at a mod-sequence above <see cref="_reportedModSeq"/>.</summary>
    private readonly Dictionary<uint, ulong> _reportedAbove = [];

    /// <summary>Messages as a command of this session changed them, newer than <see cref="Snapshot"/> until the next synchronisation.</summary>
    private readonly Dictionary<uint, MaildirMessage> _newer = [];
    private readonly HashSet<uint> _recent = [];

    /// <summary>The keywords the client was last told of (FLAGS); a new one is announced with a new FLAGS response.</summary>
    private KeywordMap _keywords;

    /// <summary>The folder version this session's view (<see cref="Uids"/>, flags, expunges) fully reflects.</summary>
    private long _reportedVersion;

    public SelectedFolder(string name, MaildirFolder folder, bool readOnly)
    {
        Name = name;
        Folder = folder;
        ReadOnly = readOnly;
        Snapshot = folder.Synchronize();
        _reportedVersion = Snapshot.Version;
        _reportedModSeq = Snapshot.HighestModSeq;
        _keywords = Snapshot.Keywords;
        _uids.Capacity = Snapshot.Messages.Count;
        for (var i = 0; i < Snapshot.Messages.Count; i++)
        {
            _uids.Add(MessageList.UidAt(Snapshot.Messages, i));
        }
        // EXAMINE shows \Recent without taking it: a later SELECT still sees the messages as recent (RFC 3501 §6.3.2).
        _recent.UnionWith(readOnly ? folder.PeekRecent(Snapshot.UidNext) : folder.ClaimRecent(Snapshot.UidNext));
    }

    public string Name { get; }

    public MaildirFolder Folder { get; }

    public bool ReadOnly { get; }

    public FolderSnapshot Snapshot { get; private set; }

    /// <summary>The searches this session keeps up to date here (RFC 5267 §4).</summary>
    public SearchContexts Contexts { get; } = new();

    public int Count => _uids.Count;

    public IReadOnlyList<uint> Uids => _uids;

    public int RecentCount => _recent.Count;

    public bool IsRecent(uint uid) => _recent.Contains(uid);

    public uint SequenceOf(int index) => (uint)(index + 1);

    /// <summary>The 0-based index of a UID in this session's view, or -1.</summary>
    public int IndexOf(uint uid)
    {
        var index = _uids.BinarySearch(uid);
        return index < 0 ? -1 : index;
    }

    /// <summary>The message's FLAGS as a parenthesised list, keywords by name.</summary>
    public string FlagsOf(MaildirMessage message) => MaildirFlags.ToImap(message, Folder.Keywords, IsRecent(message.Uid));

    /// <summary>
    /// The FLAGS and PERMANENTFLAGS responses: system flags and the folder's keywords; <c>\*</c>
    /// (new keywords may be created) only while a keyword letter is free.
    /// </summary>
    public string FlagsResponses()
    {
        var keywords = Folder.Keywords;
        _keywords = keywords;
        var all = string.Join(' ', [MaildirFlags.ImapFlagList, .. keywords.Names]);
        var permanent = ReadOnly ? "" : keywords.IsFull ? all : all + @" \*";
        return $"* FLAGS ({all})\r\n" + (ReadOnly
            ? "* OK [PERMANENTFLAGS ()] Read-only folder\r\n"
            : $"* OK [PERMANENTFLAGS ({permanent})] Flags permitted\r\n");
    }

    /// <summary>The message as of the last synchronisation, or null when it was expunged meanwhile.</summary>
    public MaildirMessage? Message(uint uid)
    {
        if (_newer.TryGetValue(uid, out var newer))
        {
            return newer;
        }
        var index = MaildirFolder.IndexOf(Snapshot.Messages, uid);
        return index < 0 ? null : Snapshot.Messages[index];
    }

    /// <summary>Records flags the client was told about (after STORE or FETCH), so they are not reported twice.</summary>
    public void Reported(MaildirMessage message)
    {
        _reportedAbove[message.Uid] = message.ModSeq;
        _newer[message.Uid] = message;
    }

    /// <summary>Indexes (0-based) of the messages a sequence set or UID set names, ascending: each range is found by binary search.</summary>
    public List<int> Resolve(SequenceSet set, bool byUid)
    {
        var result = new List<int>();
        if (_uids.Count == 0)
        {
            return result; // "1:*" on an empty folder names nothing; clients send it to mean "everything".
        }
        if (!byUid && set.LargestExplicit > _uids.Count)
        {
            throw new ImapSyntaxException($"invalid message sequence number {set.LargestExplicit}: the folder has {_uids.Count} messages");
        }
        var largest = byUid ? _uids[^1] : (uint)_uids.Count;
        foreach (var (first, last) in set.Ranges)
        {
            var (a, b) = (first ?? largest, last ?? largest);
            var (low, high) = (Math.Min(a, b), Math.Max(a, b));
            if (byUid)
            {
                var index = _uids.BinarySearch(low);
                for (index = index < 0 ? ~index : index; index < _uids.Count && _uids[index] <= high; index++)
                {
                    result.Add(index);
                }
            }
            else
            {
                for (var sequence = low; sequence <= high; sequence++)
                {
                    result.Add((int)sequence - 1);
                }
            }
        }
        if (set.Ranges.Count > 1)
        {
            result.Sort();
            var unique = 0;
            for (var i = 0; i < result.Count; i++)
            {
                if (unique == 0 || result[i] != result[unique - 1])
                {
                    result[unique++] = result[i];
                }
            }
            result.RemoveRange(unique, result.Count - unique);
        }
        return result;
    }

    /// <summary>
    /// Takes in the folder's current state without telling the client yet, so that a command works
    /// on what is on disk: a message another session expunged is left out of FETCH (RFC 2180 §4.1).
    /// </summary>
    public void Refresh() => Adopt(Folder.Synchronize());

    private void Adopt(FolderSnapshot snapshot)
    {
        if (snapshot.Version != Snapshot.Version)
        {
            _newer.Clear(); // the folder's own state now has every change this session made
        }
        Snapshot = snapshot;
    }

    /// <summary>
    /// Reports what changed since the last call; EXPUNGE only when <paramref name="allowExpunge"/>,
    /// flag changes only when <paramref name="reportFlags"/> (NOTIFY without FlagChange keeps them for the next command).
    /// </summary>
    public void WriteUpdates(ImapSession session, bool allowExpunge, bool reportFlags = true)
    {
        var snapshot = Folder.Synchronize();
        Adopt(snapshot);
        if (snapshot.Version == _reportedVersion)
        {
            // Nothing changed since the last full report: IDLE polls land here every second, and
            // comparing a large folder message by message each time would cost O(messages).
            return;
        }
        var messages = snapshot.Messages;
        if (allowExpunge)
        {
            Contexts.BeforeExpunge(session, this);
            WriteExpunges(session, messages);
        }
        AnnounceKeywords(session);
        var highest = _uids.Count == 0 ? 0 : _uids[^1];
        var first = MaildirFolder.FirstAbove(messages, highest);
        if (first < messages.Count)
        {
            for (var i = first; i < messages.Count; i++)
            {
                _uids.Add(messages[i].Uid);
                _reportedAbove[messages[i].Uid] = messages[i].ModSeq;
            }
            _recent.UnionWith(ReadOnly ? Folder.PeekRecent(snapshot.UidNext) : Folder.ClaimRecent(snapshot.UidNext));
            session.Write($"* {_uids.Count} EXISTS\r\n* {_recent.Count} RECENT\r\n");
        }
        if (reportFlags)
        {
            WriteFlagChanges(session, messages);
            _reportedModSeq = Math.Max(_reportedModSeq, snapshot.HighestModSeq);
            _reportedAbove.Clear();
        }
        Contexts.Refresh(session, this);
        if (allowExpunge && reportFlags)
        {
            _reportedVersion = snapshot.Version;
        }
    }

    /// <summary>EXPUNGE (from the highest sequence number down) or one VANISHED for the messages no longer in the folder.</summary>
    private void WriteExpunges(ImapSession session, IReadOnlyList<MaildirMessage> messages)
    {
        var vanished = new List<uint>();
        var next = messages.Count - 1;
        var removed = false;
        for (var i = _uids.Count - 1; i >= 0; i--)
        {
            var uid = _uids[i];
            while (next >= 0 && MessageList.UidAt(messages, next) > uid)
            {
                next--;
            }
            if (next >= 0 && MessageList.UidAt(messages, next) == uid)
            {
                continue;
            }
            if (session.QresyncEnabled)
            {
                vanished.Add(uid); // RFC 7162 §3.2.10: VANISHED replaces EXPUNGE
            }
            else
            {
                session.Write($"* {i + 1} EXPUNGE\r\n");
            }
            _reportedAbove.Remove(uid);
            _recent.Remove(uid);
            _uids[i] = 0;
            removed = true;
        }
        if (removed)
        {
            _uids.RemoveAll(uid => uid == 0);
        }
        if (vanished.Count > 0)
        {
            vanished.Reverse();
            session.Write($"* VANISHED {SequenceSet.Format(vanished)}\r\n");
        }
    }

    /// <summary>FETCH FLAGS for the messages whose mod-sequence moved past what this session reported.</summary>
    private void WriteFlagChanges(ImapSession session, IReadOnlyList<MaildirMessage> messages)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            // The mod-sequence first: after a restart most messages were never made into objects, and need not be.
            if (MessageList.ModSeqAt(messages, i) <= _reportedModSeq)
            {
                continue;
            }
            var message = messages[i];
            if (_reportedAbove.TryGetValue(message.Uid, out var reported) && reported == message.ModSeq)
            {
                continue;
            }
            var index = _uids.BinarySearch(message.Uid);
            if (index >= 0)
            {
                session.Write($"* {index + 1} FETCH (UID {message.Uid} FLAGS {FlagsOf(message)}{ModSeqItem(session, message)})\r\n");
            }
        }
    }

    /// <summary>A new FLAGS (and PERMANENTFLAGS) response when a keyword was defined since the last one (RFC 3501 §7.2.6).</summary>
    public void AnnounceKeywords(ImapSession session)
    {
        var keywords = Folder.Keywords;
        if (ReferenceEquals(keywords, _keywords))
        {
            return;
        }
        if (keywords.Format() == _keywords.Format())
        {
            _keywords = keywords; // reloaded, unchanged: compare by reference from now on
            return;
        }
        session.Write(FlagsResponses());
    }

    /// <summary><c> MODSEQ (n)</c> once the client enabled CONDSTORE (RFC 7162 §3.1.4), else nothing.</summary>
    public static string ModSeqItem(ImapSession session, MaildirMessage message) =>
        session.CondstoreEnabled ? $" MODSEQ ({message.ModSeq})" : "";
}
