using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>
/// One message of a folder: its UID, Maildir base name, current file name in cur/, flags, the info
/// letters we do not map to system flags (keywords are 'a'..'z', see <see cref="KeywordMap"/>)
/// and the mod-sequence of its last change (RFC 7162 CONDSTORE).
/// </summary>
internal sealed record MaildirMessage(uint Uid, string BaseName, string FileName, MessageFlags Flags, string OtherLetters, long Size, DateTimeOffset InternalDate, ulong ModSeq = 0);

/// <summary>
/// What a session sees of a folder at one moment; immutable. <c>Unseen</c> counts the messages
/// without \Seen, <c>FirstUnseen</c> is the position of the first of them (-1: none).
/// </summary>
internal sealed record FolderSnapshot(
    uint UidValidity, uint UidNext, IReadOnlyList<MaildirMessage> Messages, long Version, ulong HighestModSeq, KeywordMap Keywords, int Unseen, int FirstUnseen);

/// <summary>A file to become a message of a folder (<see cref="MaildirFolder.AddAll"/>).</summary>
internal sealed record NewMessage(string SourceFile, MessageFlags Flags, IReadOnlyCollection<string> Keywords, DateTimeOffset? InternalDate);

/// <summary>The outcome of a STORE: the messages as they are now, and those UNCHANGEDSINCE kept from changing (RFC 7162 §3.1.3).</summary>
internal sealed record FlagStoreResult(List<MaildirMessage> Messages, List<uint> Modified);

/// <summary>A new keyword cannot be defined: the folder's 26 keyword letters are taken.</summary>
internal sealed class KeywordLimitException(string keyword)
    : Exception($"The folder has {KeywordMap.Capacity} keywords already; {keyword} cannot be added");

/// <summary>
/// A Maildir folder shared by every session of this process: UIDs, flags, keywords, mod-sequences
/// and the message list under one lock, so that concurrent sessions see each other's changes.
/// The folder index (<see cref="FolderIndexFile"/>, <c>mailauth-uidlist</c>) keeps UIDVALIDITY, the
/// next UID, HIGHESTMODSEQ, each message's UID, mod-sequence, flags, size and date, and the UIDs
/// expunged with the mod-sequence of their expunge; every change appends to it. The directories
/// are read only when their modification time says something else changed them: files dropped
/// into new/ (local delivery) are moved to cur/ and given UIDs, and files added to, renamed in or
/// removed from cur/ behind our back (another program, a crash between a rename and the index
/// append) are found by comparing the index with the file names; a flag change found that way gets
/// a new mod-sequence, so the mod-sequence never misses a change nor goes backwards.
/// </summary>
internal sealed class MaildirFolder
{
    public const string UidListName = FolderIndexFile.FileName;

    /// <summary>Expunged UID ranges kept for VANISHED (EARLIER); past this the oldest are merged (a superset, RFC 7162 §3.2.5.1).</summary>
    private const int MaxVanishedRanges = 1024;

    private static long _sequence;
    private static long _lastUidValidity;

    private readonly Lock _gate = new();
    private readonly MailboxSignal? _mailbox;
    private readonly MaildirKeywordFile _keywords;
    private readonly FolderIndexFile _index;
    private readonly List<VanishedRange> _vanished = [];
    private readonly FolderCounts _counts = new();

    /// <summary>Index records of changes made but not yet appended (<see cref="Commit"/>).</summary>
    private readonly List<string> _pending = [];
    private MessageList _messages = MessageList.Empty;
    private uint _uidValidity;
    private uint _nextUid = 1;
    private ulong _highestModSeq = 1;
    private uint _recentClaimedUpTo;
    private long _version;
    private bool _loaded;
    private TaskCompletionSource _changed = NewSignal();
    private bool _deliveryPending;

    /// <summary>cur/'s modification time when the message list last matched it; a different one means another program changed cur/.</summary>
    private long _curStamp;

    /// <summary>new/'s modification time when it was last read.</summary>
    private long _newStamp;

    public MaildirFolder(string path, MailboxSignal? mailbox = null)
    {
        Path = path;
        _mailbox = mailbox;
        _keywords = new MaildirKeywordFile(path);
        _index = new FolderIndexFile(path);
        HeaderCache = new HeaderCache(path);
    }

    public string Path { get; }

    /// <summary>ENVELOPE, BODYSTRUCTURE and list header fields of the folder's messages, shared by every session on it.</summary>
    public HeaderCache HeaderCache { get; }

    public string CurPath => System.IO.Path.Combine(Path, "cur");

    public string NewPath => System.IO.Path.Combine(Path, "new");

    public string TmpPath => System.IO.Path.Combine(Path, "tmp");

    /// <summary>The keyword names as last loaded or defined; names are only ever added, so this covers every letter in use.</summary>
    public KeywordMap Keywords
    {
        get
        {
            lock (_gate)
            {
                return _keywords.Map;
            }
        }
    }

    /// <summary>
    /// Picks up what changed on disk: deliveries in new/, and files added to, renamed in or removed
    /// from cur/ by another program (seen by cur/'s modification time; <paramref name="rescan"/> reads
    /// cur/ even when that time is unchanged, for a tool that restored it).
    /// </summary>
    public FolderSnapshot Synchronize(bool rescan = false)
    {
        lock (_gate)
        {
            if (_loaded && _keywords.Reload())
            {
                Changed();
            }
            EnsureCurrent(rescan);
            _deliveryPending = false;
            return Snapshot();
        }
    }

    /// <summary>The version of the folder's state; it moves on with every change this process sees.</summary>
    public long Version
    {
        get
        {
            lock (_gate)
            {
                return _version;
            }
        }
    }

    /// <summary>
    /// The bytes of the folder's messages, brought in line with the directories first (deliveries in
    /// new/, files another program added to or removed from cur/) as for any other look at the folder;
    /// the sum itself is kept current change by change (<see cref="FolderCounts"/>).
    /// </summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                EnsureCurrent();
                return _counts.Bytes;
            }
        }
    }

    /// <summary>True when a message was delivered into new/ since the last synchronisation (<see cref="Delivered"/>).</summary>
    public bool DeliveryPending
    {
        get
        {
            lock (_gate)
            {
                return _deliveryPending;
            }
        }
    }

    /// <summary>
    /// A message was just delivered into new/ by this process: wakes the sessions waiting for a
    /// change (IDLE, NOTIFY) so that they synchronise now instead of at their next poll.
    /// </summary>
    public void Delivered()
    {
        lock (_gate)
        {
            _deliveryPending = true;
            var signal = _changed;
            _changed = NewSignal();
            signal.TrySetResult();
        }
        _mailbox?.Pulse();
    }

    /// <summary>
    /// Completes when the folder changes after <paramref name="version"/> (another session's APPEND,
    /// STORE, EXPUNGE…), at once when a delivery signalled since the last synchronisation is pending.
    /// </summary>
    public Task WaitForChangeAsync(long version, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _version != version || _deliveryPending ? Task.CompletedTask : _changed.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The UIDs up to <paramref name="uidNext"/> that no session has seen as \Recent yet; each goes to exactly one session.</summary>
    public HashSet<uint> ClaimRecent(uint uidNext)
    {
        lock (_gate)
        {
            var claimed = PeekRecent(uidNext);
            _recentClaimedUpTo = Math.Max(_recentClaimedUpTo, uidNext - 1);
            return claimed;
        }
    }

    /// <summary>The UIDs that are \Recent, without claiming them: a read-only session shows them and leaves them to the next SELECT (RFC 3501 §6.3.2).</summary>
    public HashSet<uint> PeekRecent(uint uidNext)
    {
        lock (_gate)
        {
            var recent = new HashSet<uint>();
            for (var i = FirstAbove(_messages, _recentClaimedUpTo); i < _messages.Count && _messages.UidAt(i) < uidNext; i++)
            {
                recent.Add(_messages.UidAt(i));
            }
            return recent;
        }
    }

    /// <summary>Messages that are \Recent for the next session to look (STATUS RECENT).</summary>
    public int UnclaimedRecentCount
    {
        get
        {
            lock (_gate)
            {
                return _messages.Count - FirstAbove(_messages, _recentClaimedUpTo);
            }
        }
    }

    /// <summary>Moves <paramref name="sourceFile"/> (on the same file system) into cur/ as a new message.</summary>
    public uint Add(string sourceFile, MessageFlags flags, DateTimeOffset? internalDate) => Add(sourceFile, flags, [], internalDate);

    /// <summary>Moves <paramref name="sourceFile"/> into cur/ as a new message with flags and keywords (defined here if new).</summary>
    public uint Add(string sourceFile, MessageFlags flags, IReadOnlyCollection<string> keywords, DateTimeOffset? internalDate) =>
        AddAll([new NewMessage(sourceFile, flags, keywords, internalDate)])[0];

    /// <summary>
    /// Moves the files (on the same file system) into cur/ as new messages, in order, with one index
    /// append flushed to disk once (APPEND, MULTIAPPEND, COPY). All or none: every keyword is defined
    /// before the first file moves (<see cref="KeywordLimitException"/>), and a file that cannot be
    /// moved takes back those already moved.
    /// </summary>
    public List<uint> AddAll(IReadOnlyList<NewMessage> items)
    {
        var prepared = new List<(NewMessage Item, string BaseName, long Size, DateTimeOffset Date)>(items.Count);
        foreach (var item in items)
        {
            var file = new FileInfo(item.SourceFile);
            var size = file.Length;
            var date = file.LastWriteTimeUtc;
            if (item.InternalDate is { } given && given.UtcDateTime != date)
            {
                // The file's mtime is the INTERNALDATE; it keeps no zone, so the date is kept in UTC throughout.
                // (A COPY's hard link already has it: its file may belong to the program that delivered it.)
                date = given.UtcDateTime;
                File.SetLastWriteTimeUtc(item.SourceFile, date);
            }
            prepared.Add((item, UniqueName(size), size, new DateTimeOffset(date)));
        }
        lock (_gate)
        {
            EnsureCurrent();
            var letters = prepared.Select(p => KeywordLetters(p.Item.Keywords, define: true)).ToList();
            var before = MaildirFiles.Stamp(CurPath);
            var added = new List<MaildirMessage>(prepared.Count);
            try
            {
                for (var i = 0; i < prepared.Count; i++)
                {
                    var (item, baseName, size, date) = prepared[i];
                    var fileName = baseName + MaildirFlags.ToInfo(item.Flags, letters[i]);
                    File.Move(item.SourceFile, System.IO.Path.Combine(CurPath, fileName));
                    added.Add(new MaildirMessage(_nextUid++, baseName, fileName, item.Flags, MaildirFlags.Canonical(letters[i]), size, date, ++_highestModSeq));
                }
            }
            catch
            {
                foreach (var message in added)
                {
                    File.Delete(System.IO.Path.Combine(CurPath, message.FileName));
                }
                throw;
            }
            MaildirDelivery.SyncDirectory(CurPath);
            OwnChange(before);
            _messages = _messages.Append(added);
            _counts.Appended(added);
            _pending.AddRange(added.Select(FolderIndexFile.Added));
            Commit();
            Changed();
            return [.. added.Select(m => m.Uid)];
        }
    }

    /// <summary>Changes the system flags of the given UIDs (FETCH's implicit \Seen); returns the messages as they are now.</summary>
    public List<MaildirMessage> SetFlags(IReadOnlyCollection<uint> uids, Func<MessageFlags, MessageFlags> change) =>
        Change(uids, message => (change(message.Flags), message.OtherLetters), unchangedSince: null).Messages;

    /// <summary>
    /// STORE: applies <paramref name="change"/> to the given UIDs; with <paramref name="unchangedSince"/>,
    /// messages changed after that mod-sequence are left alone and listed as modified (RFC 7162 §3.1.3).
    /// New keywords are defined first (<see cref="KeywordLimitException"/> when no letter is free).
    /// </summary>
    public FlagStoreResult Store(IReadOnlyCollection<uint> uids, FlagChange change, ulong? unchangedSince)
    {
        lock (_gate)
        {
            EnsureCurrent();
            var letters = KeywordLetters(change.Keywords, define: change.Operation != FlagOperation.Remove);
            return Change(uids, message => change.Apply(message.Flags, message.OtherLetters, letters), unchangedSince);
        }
    }

    private FlagStoreResult Change(IReadOnlyCollection<uint> uids, Func<MaildirMessage, (MessageFlags Flags, string Other)> change, ulong? unchangedSince)
    {
        lock (_gate)
        {
            EnsureCurrent();
            var updated = new List<MaildirMessage>();
            var modified = new List<uint>();
            var changes = new List<(int Position, MaildirMessage Message)>();
            var before = MaildirFiles.Stamp(CurPath);
            ulong modSeq = 0;
            foreach (var uid in uids.Distinct().Order())
            {
                var i = IndexOf(_messages, uid);
                if (i < 0)
                {
                    continue;
                }
                var message = _messages[i];
                if (message.ModSeq > unchangedSince)
                {
                    modified.Add(message.Uid);
                    continue;
                }
                var (flags, other) = change(message);
                other = MaildirFlags.Canonical(other);
                if (flags != message.Flags || other != MaildirFlags.Canonical(message.OtherLetters))
                {
                    var fileName = message.BaseName + MaildirFlags.ToInfo(flags, other);
                    try
                    {
                        File.Move(System.IO.Path.Combine(CurPath, message.FileName), System.IO.Path.Combine(CurPath, fileName));
                    }
                    catch (FileNotFoundException)
                    {
                        continue; // Removed behind our back; the next rescan drops it.
                    }
                    // One mod-sequence for the whole command: RFC 7162 §3.1 asks only that it grow.
                    modSeq = modSeq == 0 ? ++_highestModSeq : modSeq;
                    message = message with { Flags = flags, OtherLetters = other, FileName = fileName, ModSeq = modSeq };
                    changes.Add((i, message));
                    _pending.Add(FolderIndexFile.FlagsChanged(message));
                }
                updated.Add(message);
            }
            if (changes.Count > 0)
            {
                OwnChange(before);
                foreach (var (at, now) in changes)
                {
                    _counts.FlagsChanged(at, _messages[at], now);
                }
                _messages = _messages.Replace(changes);
                Commit();
                Changed();
            }
            return new FlagStoreResult(updated, modified);
        }
    }

    /// <summary>Deletes the messages <paramref name="remove"/> selects; returns their UIDs, ascending.</summary>
    public List<uint> Expunge(Func<MaildirMessage, bool> remove)
    {
        lock (_gate)
        {
            EnsureCurrent();
            var before = MaildirFiles.Stamp(CurPath);
            var removed = new List<uint>();
            var removedAt = new List<int>();
            var kept = new List<MaildirMessage>(_messages.Count);
            for (var i = 0; i < _messages.Count; i++)
            {
                var message = _messages[i];
                if (remove(message))
                {
                    File.Delete(System.IO.Path.Combine(CurPath, message.FileName));
                    removed.Add(message.Uid);
                    removedAt.Add(i);
                }
                else
                {
                    kept.Add(message);
                }
            }
            if (removed.Count > 0)
            {
                OwnChange(before);
                foreach (var at in removedAt)
                {
                    _counts.Removed(at, _messages[at]);
                }
                _messages = MessageList.Of([.. kept]);
                RecordVanished(removed, ++_highestModSeq);
                Commit();
                Changed();
            }
            return removed;
        }
    }

    /// <summary>
    /// The UIDs expunged after <paramref name="modSeq"/> as ranges, within <paramref name="within"/>
    /// (null: all) and above <paramref name="above"/>; UIDs of messages still present are never included.
    /// </summary>
    public List<(uint First, uint Last)> VanishedSince(ulong modSeq, IReadOnlyList<(uint First, uint Last)>? within, uint above)
    {
        lock (_gate)
        {
            EnsureCurrent();
            var live = new uint[_messages.Count]; // ascending
            for (var i = 0; i < live.Length; i++)
            {
                live[i] = _messages.UidAt(i);
            }
            var result = new List<(uint First, uint Last)>();
            foreach (var range in _vanished.Where(v => v.ModSeq > modSeq).OrderBy(v => v.First))
            {
                var first = Math.Max(range.First, above + 1);
                var index = Array.BinarySearch(live, first);
                index = index < 0 ? ~index : index;
                while (first <= range.Last)
                {
                    var last = index < live.Length && live[index] <= range.Last ? live[index] - 1 : range.Last;
                    if (last >= first)
                    {
                        Intersect(result, first, last, within);
                    }
                    if (last == range.Last || index >= live.Length)
                    {
                        break;
                    }
                    first = live[index] + 1;
                    index++;
                }
            }
            return Merge(result);
        }
    }

    private static void Intersect(List<(uint First, uint Last)> result, uint first, uint last, IReadOnlyList<(uint First, uint Last)>? within)
    {
        if (within is null)
        {
            result.Add((first, last));
            return;
        }
        foreach (var (a, b) in within)
        {
            var (low, high) = (Math.Max(first, Math.Min(a, b)), Math.Min(last, Math.Max(a, b)));
            if (low <= high)
            {
                result.Add((low, high));
            }
        }
    }

    private static List<(uint First, uint Last)> Merge(List<(uint First, uint Last)> ranges)
    {
        var merged = new List<(uint First, uint Last)>();
        foreach (var (first, last) in ranges.OrderBy(r => r.First))
        {
            if (merged.Count > 0 && first <= (ulong)merged[^1].Last + 1)
            {
                merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, last));
            }
            else
            {
                merged.Add((first, last));
            }
        }
        return merged;
    }

    private void RecordVanished(List<uint> uids, ulong modSeq)
    {
        foreach (var (first, last) in Merge([.. uids.Select(u => (u, u))]))
        {
            var range = new VanishedRange(first, last, modSeq);
            _vanished.Add(range);
            _pending.Add(FolderIndexFile.Expunged(range));
        }
        MergeOldestVanished();
    }

    private void MergeOldestVanished()
    {
        while (_vanished.Count > MaxVanishedRanges)
        {
            // The two oldest become one range: UIDs between them that never vanished are still
            // filtered out at query time, those expunged earlier are reported again (§3.2.5.1 allows it).
            var (a, b) = (_vanished[0], _vanished[1]);
            _vanished[1] = new VanishedRange(Math.Min(a.First, b.First), Math.Max(a.Last, b.Last), Math.Max(a.ModSeq, b.ModSeq));
            _vanished.RemoveAt(0);
        }
    }

    /// <summary>
    /// The keyword letters for <paramref name="names"/> in this folder; with <paramref name="define"/>,
    /// names not yet known get a free letter, written durably to dovecot-keywords before any file uses it.
    /// </summary>
    private string KeywordLetters(IEnumerable<string> names, bool define)
    {
        _keywords.Reload();
        var map = _keywords.Map;
        var letters = new StringBuilder();
        foreach (var name in names)
        {
            if (map.LetterOf(name) is { } letter)
            {
                letters.Append(letter);
            }
            else if (define)
            {
                map = map.Define(name) ?? throw new KeywordLimitException(name);
                letters.Append(map.LetterOf(name)!.Value);
            }
        }
        if (map != _keywords.Map)
        {
            _keywords.Save(map);
            Changed();
        }
        return letters.ToString();
    }

    /// <summary>
    /// Copies the given messages into <paramref name="target"/> with their flags, keywords (by name:
    /// the target has its own letters) and dates; returns (source UID, new UID) pairs in source UID
    /// order. The files are linked (or copied) into the target's tmp/ under this folder's lock, then
    /// added under the target's lock with one index append, never both locks at once (a COPY each way
    /// between two folders cannot deadlock).
    /// </summary>
    public List<(uint Source, uint Target)> CopyTo(MaildirFolder target, IReadOnlyCollection<uint> uids)
    {
        var staged = new List<(MaildirMessage Message, List<string> Keywords, string TempFile)>();
        try
        {
            lock (_gate)
            {
                EnsureCurrent();
                foreach (var uid in uids.Distinct().Order())
                {
                    var index = IndexOf(_messages, uid);
                    if (index < 0)
                    {
                        continue;
                    }
                    var message = _messages[index];
                    var temp = System.IO.Path.Combine(target.TmpPath, UniqueName(message.Size) + ".copy");
                    try
                    {
                        MaildirFiles.LinkOrCopy(System.IO.Path.Combine(CurPath, message.FileName), temp);
                    }
                    catch (FileNotFoundException)
                    {
                        continue;
                    }
                    staged.Add((message, [.. _keywords.Map.NamesOf(message.OtherLetters)], temp));
                }
            }
            var added = target.AddAll([.. staged.Select(s => new NewMessage(s.TempFile, s.Message.Flags, s.Keywords, s.Message.InternalDate))]);
            var pairs = staged.Select((s, i) => (s.Message.Uid, added[i])).ToList();
            staged.Clear();
            return pairs;
        }
        finally
        {
            foreach (var (_, _, temp) in staged)
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Gives every name a keyword letter; <see cref="KeywordLimitException"/> when they do not all fit.</summary>
    public void DefineKeywords(IReadOnlyCollection<string> names)
    {
        lock (_gate)
        {
            EnsureCurrent();
            KeywordLetters(names, define: true);
        }
    }

    /// <summary>Full path of a message's file as of the snapshot; null when it is gone.</summary>
    public string? FilePathOf(uint uid)
    {
        lock (_gate)
        {
            var index = IndexOf(_messages, uid);
            return index < 0 ? null : System.IO.Path.Combine(CurPath, _messages[index].FileName);
        }
    }

    /// <summary>
    /// Loads the folder on first use, then brings it in line with the directories when their
    /// modification times moved (another program's change, a delivery); changes found are appended
    /// to the index before anything is reported from them.
    /// </summary>
    private void EnsureCurrent(bool rescan = false)
    {
        if (!_loaded)
        {
            Load();
        }
        else if (rescan || MaildirFiles.Stamp(CurPath) != _curStamp)
        {
            RescanCur();
        }
        TakeNew();
        if (_pending.Count > 0 || !_index.Written || _index.SnapshotWanted)
        {
            Commit();
        }
    }

    /// <summary>
    /// Reads the index; when cur/ is as the index last saw it, that is the whole folder and the
    /// directory is not read (SELECT after a restart costs one file read). Otherwise, and for lists
    /// older than version 3, cur/ is compared with it (<see cref="RescanCur"/>).
    /// </summary>
    private void Load()
    {
        MaildirDirectories.CreateSubdirectories(Path);
        _keywords.Reload();
        var stamp = MaildirFiles.Stamp(CurPath);
        var contents = _index.Load();
        _vanished.Clear();
        if (contents is null)
        {
            // A new (or unreadable) list starts a new UID epoch: clients must forget cached UIDs and mod-sequences.
            (_uidValidity, _nextUid, _highestModSeq) = (NewUidValidity(), 1, 1);
            _messages = MessageList.Empty;
        }
        else
        {
            (_uidValidity, _nextUid, _highestModSeq) = (contents.UidValidity, contents.NextUid, contents.HighestModSeq);
            _vanished.AddRange(contents.Vanished);
            MergeOldestVanished();
            _messages = contents.Messages;
        }
        _counts.Recount(_messages);
        _loaded = true;
        if (contents is null || contents.Version < 3 || contents.CurStamp != stamp)
        {
            RescanCur(flagsKnown: contents?.Version != 1);
        }
        else
        {
            _curStamp = stamp;
        }
        // Messages found in cur/ at load were seen by an earlier process; those in new/ are \Recent.
        _recentClaimedUpTo = _nextUid - 1;
    }

    private static MaildirMessage FromFile(FileInfo file)
    {
        var (baseName, flags, other) = MaildirFlags.Parse(file.Name);
        return new MaildirMessage(0, baseName, file.Name, flags, MaildirFlags.Canonical(other), file.Length, file.LastWriteTimeUtc);
    }

    /// <summary>
    /// Reconciles the message list with cur/ as it is on disk, from the file names alone (a file is
    /// stat'ed only when it is new to the list): a file renamed with other flags keeps its UID and gets
    /// a new mod-sequence (unless <paramref name="flagsKnown"/> is false: a version 1 list kept no flags),
    /// a file gone is expunged, a file unknown gets the next UID. Returns true when anything changed.
    /// </summary>
    private bool RescanCur(bool flagsKnown = true)
    {
        var stamp = MaildirFiles.Stamp(CurPath);
        var names = MaildirFiles.Names(CurPath);
        Dictionary<string, string>? byBase = null;
        var kept = new List<MaildirMessage>(_messages.Count);
        var gone = new List<uint>();
        var changed = false;
        ulong modSeq = 0;
        ulong Bump() => modSeq = modSeq == 0 ? ++_highestModSeq : modSeq;
        foreach (var message in _messages)
        {
            if (message.Size >= 0 && names.Remove(message.FileName))
            {
                kept.Add(message);
                continue;
            }
            byBase ??= ByBaseName(names);
            if (!byBase.Remove(message.BaseName, out var file) || !names.Remove(file))
            {
                gone.Add(message.Uid);
                continue;
            }
            var now = message with { FileName = file };
            if (message.Size < 0)
            {
                var info = new FileInfo(System.IO.Path.Combine(CurPath, file));
                now = now with { Size = info.Length, InternalDate = info.LastWriteTimeUtc };
            }
            var (_, flags, other) = MaildirFlags.Parse(file);
            other = MaildirFlags.Canonical(other);
            if (flags != message.Flags || other != message.OtherLetters)
            {
                // Flags changed by another program: a change like any other (RFC 7162 §3.1).
                now = now with { Flags = flags, OtherLetters = other, ModSeq = flagsKnown ? Bump() : message.ModSeq };
                _pending.Add(FolderIndexFile.FlagsChanged(now));
                changed = true;
            }
            kept.Add(now);
        }
        var arrived = names.Select(name => FromFile(new FileInfo(System.IO.Path.Combine(CurPath, name)))).ToList();
        _curStamp = stamp;
        if (!changed && gone.Count == 0 && arrived.Count == 0)
        {
            _messages = MessageList.Of([.. kept]);
            // Sizes missing from an index older than version 3 were just read.
            _counts.Recount(_messages);
            return false;
        }
        if (gone.Count > 0)
        {
            RecordVanished(gone, Bump());
        }
        var numbered = arrived.Count > 0 ? NumberNew(arrived, Bump()) : [];
        _pending.AddRange(numbered.Select(FolderIndexFile.Added));
        _messages = MessageList.Of([.. kept, .. numbered]);
        _counts.Recount(_messages);
        Changed();
        return true;
    }

    /// <summary>The file for each base name (the first of duplicates; the others are messages of their own).</summary>
    private static Dictionary<string, string> ByBaseName(HashSet<string> names)
    {
        var byBase = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            byBase.TryAdd(MaildirFlags.Parse(name).BaseName, name);
        }
        return byBase;
    }

    /// <summary>Moves delivered files from new/ to cur/ (RFC-less Maildir convention) and numbers them; reads new/ only when it changed.</summary>
    private void TakeNew()
    {
        var stamp = MaildirFiles.Stamp(NewPath);
        if (stamp == _newStamp && !_deliveryPending)
        {
            return;
        }
        _newStamp = stamp;
        var arrived = new List<MaildirMessage>();
        var before = MaildirFiles.Stamp(CurPath);
        foreach (var name in MaildirFiles.Names(NewPath))
        {
            var file = new FileInfo(System.IO.Path.Combine(NewPath, name));
            var (baseName, flags, other) = MaildirFlags.Parse(name);
            var fileName = baseName + MaildirFlags.ToInfo(flags, other);
            try
            {
                var (size, date) = (file.Length, file.LastWriteTimeUtc);
                File.Move(file.FullName, System.IO.Path.Combine(CurPath, fileName));
                arrived.Add(new MaildirMessage(0, baseName, fileName, flags, MaildirFlags.Canonical(other), size, date));
            }
            catch (FileNotFoundException)
            {
                continue; // Taken by another process reading the same Maildir.
            }
        }
        if (arrived.Count == 0)
        {
            return;
        }
        MaildirDelivery.SyncDirectory(CurPath);
        OwnChange(before);
        var numbered = NumberNew(arrived, ++_highestModSeq);
        _pending.AddRange(numbered.Select(FolderIndexFile.Added));
        _messages = _messages.Append(numbered);
        _counts.Appended(numbered);
        Changed();
    }

    private List<MaildirMessage> NumberNew(List<MaildirMessage> messages, ulong modSeq) =>
        messages
            .OrderBy(m => m.InternalDate)
            .ThenBy(m => m.BaseName, StringComparer.Ordinal)
            .Select(m => m with { Uid = _nextUid++, ModSeq = modSeq })
            .ToList();

    /// <summary>
    /// After this process changed cur/: its new modification time is ours to expect, unless cur/ had
    /// already moved on before (<paramref name="before"/> differs), when another program's change is
    /// still to be read. A change another program makes in the instant between our rename and this
    /// look is seen with the next change to cur/, or by a rescan.
    /// </summary>
    private void OwnChange(long before)
    {
        if (before == _curStamp)
        {
            _curStamp = MaildirFiles.Stamp(CurPath);
        }
    }

    /// <summary>Appends the pending records to the index (one write, one flush to disk).</summary>
    private void Commit()
    {
        _index.Append(_pending, _uidValidity, _nextUid, _highestModSeq, _curStamp, _messages, _vanished);
        _pending.Clear();
    }

    /// <summary>The position of <paramref name="uid"/> in a UID-ordered list, or -1.</summary>
    public static int IndexOf(IReadOnlyList<MaildirMessage> messages, uint uid)
    {
        var (low, high) = (0, messages.Count - 1);
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            var at = MessageList.UidAt(messages, middle);
            if (at == uid)
            {
                return middle;
            }
            (low, high) = at < uid ? (middle + 1, high) : (low, middle - 1);
        }
        return -1;
    }

    /// <summary>The position of the first message with a UID above <paramref name="uid"/> in a UID-ordered list.</summary>
    public static int FirstAbove(IReadOnlyList<MaildirMessage> messages, uint uid)
    {
        var (low, high) = (0, messages.Count);
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            (low, high) = MessageList.UidAt(messages, middle) <= uid ? (middle + 1, high) : (low, middle);
        }
        return low;
    }

    /// <summary>
    /// The current time in seconds, but never the same value twice in this process: a folder deleted
    /// and created again within one second must not look like the old one to a client's cache.
    /// </summary>
    private static uint NewUidValidity()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        while (true)
        {
            var last = Interlocked.Read(ref _lastUidValidity);
            var next = Math.Max(now, last + 1);
            if (Interlocked.CompareExchange(ref _lastUidValidity, next, last) == last)
            {
                return (uint)next;
            }
        }
    }

    private FolderSnapshot Snapshot() =>
        new(_uidValidity, _nextUid, _messages, _version, _highestModSeq, _keywords.Map, _counts.Unseen, _counts.FirstUnseen(_messages));

    private void Changed()
    {
        _version++;
        var signal = _changed;
        _changed = NewSignal();
        signal.TrySetResult();
        _mailbox?.Pulse();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>time.M{microseconds}P{pid}Q{sequence}.host,S=size (Maildir and Maildir++ conventions).</summary>
    private static string UniqueName(long size)
    {
        var now = DateTimeOffset.UtcNow;
        var host = Environment.MachineName.Replace('/', '\u2215').Replace(':', '\u2236');
        return string.Create(CultureInfo.InvariantCulture,
            $"{now.ToUnixTimeSeconds()}.M{now.Ticks / 10 % 1_000_000}P{Environment.ProcessId}I{Interlocked.Increment(ref _sequence)}.{host},S={size}");
    }
}
