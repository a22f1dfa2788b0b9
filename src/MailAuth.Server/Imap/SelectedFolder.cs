using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>
/// A session's view of its selected folder: the sequence numbers it has announced and the flags
/// it last reported. The shared <see cref="MaildirFolder"/> moves on; <see cref="WriteUpdates"/>
/// brings the client up to date with EXPUNGE, EXISTS, RECENT and FETCH FLAGS (RFC 3501 §7).
/// </summary>
internal sealed class SelectedFolder
{
    private readonly List<uint> _uids = [];
    private readonly Dictionary<uint, MessageFlags> _flags = [];
    private readonly HashSet<uint> _recent = [];
    private Dictionary<uint, MaildirMessage> _current = [];

    /// <summary>The folder version this session's view (<see cref="Uids"/>, flags, expunges) fully reflects.</summary>
    private long _reportedVersion;

    public SelectedFolder(string name, MaildirFolder folder, bool readOnly)
    {
        Name = name;
        Folder = folder;
        ReadOnly = readOnly;
        Snapshot = folder.Synchronize(rescan: true);
        _reportedVersion = Snapshot.Version;
        Adopt(Snapshot.Messages);
        _recent.UnionWith(folder.ClaimRecent(Snapshot.UidNext));
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

    /// <summary>The message as of the last synchronisation, or null when it was expunged meanwhile.</summary>
    public MaildirMessage? Message(uint uid) => _current.GetValueOrDefault(uid);

    /// <summary>Records flags the client was told about (after STORE or FETCH), so they are not reported twice.</summary>
    public void Reported(MaildirMessage message)
    {
        _flags[message.Uid] = message.Flags;
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
            for (var i = _uids.Count - 1; i >= 0; i--)
            {
                if (!_current.ContainsKey(_uids[i]))
                {
                    session.Write($"* {i + 1} EXPUNGE\r\n");
                    _flags.Remove(_uids[i]);
                    _recent.Remove(_uids[i]);
                    _uids.RemoveAt(i);
                }
            }
        }
        var highest = _uids.Count == 0 ? 0 : _uids[^1];
        var arrived = snapshot.Messages.Where(m => m.Uid > highest).ToList();
        if (arrived.Count > 0)
        {
            Adopt(arrived);
            _recent.UnionWith(Folder.ClaimRecent(snapshot.UidNext));
            session.Write($"* {_uids.Count} EXISTS\r\n* {_recent.Count} RECENT\r\n");
        }
        for (var i = 0; i < _uids.Count && reportFlags; i++)
        {
            if (_current.TryGetValue(_uids[i], out var message) && _flags[message.Uid] != message.Flags)
            {
                _flags[message.Uid] = message.Flags;
                session.Write($"* {i + 1} FETCH (UID {message.Uid} FLAGS {MaildirFlags.ToImap(message.Flags, IsRecent(message.Uid))})\r\n");
            }
        }
        Contexts.Refresh(session, this);
        if (allowExpunge && reportFlags)
        {
            _reportedVersion = snapshot.Version;
        }
    }

    private void Adopt(IEnumerable<MaildirMessage> messages)
    {
        foreach (var message in messages)
        {
            _uids.Add(message.Uid);
            _flags[message.Uid] = message.Flags;
            _current[message.Uid] = message;
        }
    }
}
