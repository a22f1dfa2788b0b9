using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// A session's view of its selected folder: the sequence numbers it has announced and the flags
/// it last reported. The shared <see cref="MaildirFolder"/> moves on; <see cref="WriteUpdates"/>
/// brings the client up to date with EXPUNGE (or VANISHED), EXISTS, RECENT, FLAGS and FETCH
/// FLAGS (RFC 3501 §7, RFC 7162 §3.2.10).
/// </summary>
internal sealed class SelectedFolder
{
    private readonly List<uint> _uids = [];
    /// <summary>The mod-sequence of each message as last reported: a message whose mod-sequence moved has new flags to tell.</summary>
    private readonly Dictionary<uint, ulong> _modSeqs = [];
    private readonly HashSet<uint> _recent = [];
    private Dictionary<uint, MaildirMessage> _current = [];

    /// <summary>The keywords the client was last told of (FLAGS); a new one is announced with a new FLAGS response.</summary>
    private KeywordMap _keywords;

    /// <summary>The folder version this session's view (<see cref="Uids"/>, flags, expunges) fully reflects.</summary>
    private long _reportedVersion;

    public SelectedFolder(string name, MaildirFolder folder, bool readOnly)
    {
        Name = name;
        Folder = folder;
        ReadOnly = readOnly;
        Snapshot = folder.Synchronize(rescan: true);
        _reportedVersion = Snapshot.Version;
        _keywords = Snapshot.Keywords;
        Adopt(Snapshot.Messages);
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
    public MaildirMessage? Message(uint uid) => _current.GetValueOrDefault(uid);

    /// <summary>Records flags the client was told about (after STORE or FETCH), so they are not reported twice.</summary>
    public void Reported(MaildirMessage message)
    {
        _modSeqs[message.Uid] = message.ModSeq;
        _current[message.Uid] = message;
    }

    /// <summary>Indexes (0-based) of the messages a sequence set or UID set names, ascending.</summary>
    public List<int> Resolve(SequenceSet set, bool byUid)
    {
        var result = new List<int>();
        if (_uids.Count == 0)
        {
            return result; // "1:*" on an empty folder names nothing; clients send it to mean "everything".
        }
        if (byUid)
        {
            var largest = _uids[^1];
            for (var i = 0; i < _uids.Count; i++)
            {
                if (set.Contains(_uids[i], largest))
                {
                    result.Add(i);
                }
            }
            return result;
        }
        if (set.LargestExplicit > _uids.Count)
        {
            throw new ImapSyntaxException($"invalid message sequence number {set.LargestExplicit}: the folder has {_uids.Count} messages");
        }
        for (var i = 0; i < _uids.Count; i++)
        {
            if (set.Contains((uint)(i + 1), (uint)_uids.Count))
            {
                result.Add(i);
            }
        }
        return result;
    }

    /// <summary>
    /// Takes in the folder's current state without telling the client yet, so that a command works
    /// on what is on disk: a message another session expunged is left out of FETCH (RFC 2180 §4.1).
    /// </summary>
    public void Refresh()
    {
        Snapshot = Folder.Synchronize();
        _current = Snapshot.Messages.ToDictionary(m => m.Uid);
    }

    /// <summary>
    /// Reports what changed since the last call; EXPUNGE only when <paramref name="allowExpunge"/>,
    /// flag changes only when <paramref name="reportFlags"/> (NOTIFY without FlagChange keeps them for the next command).
    /// </summary>
    public void WriteUpdates(ImapSession session, bool allowExpunge, bool reportFlags = true)
    {
        var snapshot = Folder.Synchronize();
        if (snapshot.Version == _reportedVersion)
        {
            // Nothing changed since the last full report: IDLE polls land here every second, and
            // comparing a large folder message by message each time would cost O(messages).
            Snapshot = snapshot;
            return;
        }
        Snapshot = snapshot;
        _current = snapshot.Messages.ToDictionary(m => m.Uid);
        if (allowExpunge)
        {
            Contexts.BeforeExpunge(session, this);
            var vanished = new List<uint>();
            for (var i = _uids.Count - 1; i >= 0; i--)
            {
                if (!_current.ContainsKey(_uids[i]))
                {
                    if (session.QresyncEnabled)
                    {
                        vanished.Add(_uids[i]); // RFC 7162 §3.2.10: VANISHED replaces EXPUNGE
                    }
                    else
                    {
                        session.Write($"* {i + 1} EXPUNGE\r\n");
                    }
                    _modSeqs.Remove(_uids[i]);
                    _recent.Remove(_uids[i]);
                    _uids.RemoveAt(i);
                }
            }
            if (vanished.Count > 0)
            {
                vanished.Reverse();
                session.Write($"* VANISHED {SequenceSet.Format(vanished)}\r\n");
            }
        }
        AnnounceKeywords(session);
        var highest = _uids.Count == 0 ? 0 : _uids[^1];
        var arrived = snapshot.Messages.Where(m => m.Uid > highest).ToList();
        if (arrived.Count > 0)
        {
            Adopt(arrived);
            _recent.UnionWith(ReadOnly ? Folder.PeekRecent(snapshot.UidNext) : Folder.ClaimRecent(snapshot.UidNext));
            session.Write($"* {_uids.Count} EXISTS\r\n* {_recent.Count} RECENT\r\n");
        }
        for (var i = 0; i < _uids.Count && reportFlags; i++)
        {
            if (_current.TryGetValue(_uids[i], out var message) && _modSeqs[message.Uid] != message.ModSeq)
            {
                _modSeqs[message.Uid] = message.ModSeq;
                session.Write($"* {i + 1} FETCH (UID {message.Uid} FLAGS {FlagsOf(message)}{ModSeqItem(session, message)})\r\n");
            }
        }
        Contexts.Refresh(session, this);
        if (allowExpunge && reportFlags)
        {
            _reportedVersion = snapshot.Version;
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

    private void Adopt(IEnumerable<MaildirMessage> messages)
    {
        foreach (var message in messages)
        {
            _uids.Add(message.Uid);
            _modSeqs[message.Uid] = message.ModSeq;
            _current[message.Uid] = message;
        }
    }
}
