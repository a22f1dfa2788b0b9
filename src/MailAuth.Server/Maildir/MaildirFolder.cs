using System.Globalization;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>
/// One message of a folder: its UID, Maildir base name, current file name in cur/, flags, the info
/// letters we do not map to system flags (keywords are 'a'..'z', see <see cref="KeywordMap"/>)
/// and the mod-sequence of its last change (RFC 7162 CONDSTORE).
/// </summary>
internal sealed record MaildirMessage(uint Uid, string BaseName, string FileName, MessageFlags Flags, string OtherLetters, long Size, DateTimeOffset InternalDate, ulong ModSeq = 0);

/// <summary>What a session sees of a folder at one moment; immutable.</summary>
internal sealed record FolderSnapshot(uint UidValidity, uint UidNext, IReadOnlyList<MaildirMessage> Messages, long Version, ulong HighestModSeq, KeywordMap Keywords);

/// <summary>The outcome of a STORE: the messages as they are now, and those UNCHANGEDSINCE kept from changing (RFC 7162 §3.1.3).</summary>
internal sealed record FlagStoreResult(List<MaildirMessage> Messages, List<uint> Modified);

/// <summary>A new keyword cannot be defined: the folder's 26 keyword letters are taken.</summary>
internal sealed class KeywordLimitException(string keyword)
    : Exception($"The folder has {KeywordMap.Capacity} keywords already; {keyword} cannot be added");

/// <summary>
/// A Maildir folder shared by every session of this process: UIDs, flags, keywords, mod-sequences
/// and the message list under one lock, so that concurrent sessions see each other's changes.
/// <c>mailauth-uidlist</c> keeps UIDVALIDITY, the next UID, HIGHESTMODSEQ, each message's UID,
/// mod-sequence and flags, and the UIDs expunged with the mod-sequence of their expunge; it is
/// replaced atomically (written to a temporary file, then renamed over) after every change.
/// Files dropped into new/ (local delivery) are moved to cur/ and given UIDs the next time the
/// folder is synchronised; flags changed behind our back (a crash between a rename and the list's
/// save, another program) are found by comparing the list with the file names, and get a new
/// mod-sequence, so the mod-sequence never misses a change nor goes backwards.
/// </summary>
internal sealed class MaildirFolder
{
    public const string UidListName = "mailauth-uidlist";
    private const string UidListHeaderV1 = "mailauth-uidlist 1";
    private const string UidListHeader = "mailauth-uidlist 2";

    /// <summary>Expunged UID ranges kept for VANISHED (EARLIER); past this the oldest are merged (a superset, RFC 7162 §3.2.5.1).</summary>
    private const int MaxVanishedRanges = 1024;

    private static long _sequence;
    private static long _lastUidValidity;

    private readonly Lock _gate = new();
    private readonly MailboxSignal? _mailbox;
    private readonly MaildirKeywordFile _keywords;
    private readonly List<VanishedRange> _vanished = [];
    private MaildirMessage[] _messages = [];
    private uint _uidValidity;
    private uint _nextUid = 1;
    private ulong _highestModSeq = 1;
    private uint _recentClaimedUpTo;
    private long _version;
    private bool _loaded;
    private TaskCompletionSource _changed = NewSignal();
    private bool _deliveryPending;

    public MaildirFolder(string path, MailboxSignal? mailbox = null)
    {
        Path = path;
        _mailbox = mailbox;
        _keywords = new MaildirKeywordFile(path);
    }

    public string Path { get; }

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

    /// <summary>Picks up new/ (and, when <paramref name="rescan"/>, files added to or removed from cur/ behind our back).</summary>
    public FolderSnapshot Synchronize(bool rescan = false)
    {
        lock (_gate)
        {
            var changed = false;
            if (!_loaded)
            {
                changed = Load();
            }
            else
            {
                if (_keywords.Reload())
                {
                    Changed();
                }
                if (rescan)
                {
                    changed |= RescanCur();
                }
            }
            _deliveryPending = false;
            changed |= TakeNew();
            if (changed)
            {
                Save();
            }
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

    /// <summary>Completes when the folder changes after <paramref name="version"/> (another session's APPEND, STORE, EXPUNGE…).</summary>
    public Task WaitForChangeAsync(long version, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _version != version ? Task.CompletedTask : _changed.Task.WaitAsync(cancellationToken);
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
            return [.. _messages.Where(m => m.Uid > _recentClaimedUpTo && m.Uid < uidNext).Select(m => m.Uid)];
        }
    }

    /// <summary>Messages that are \Recent for the next session to look (STATUS RECENT).</summary>
    public int UnclaimedRecentCount
    {
        get
        {
            lock (_gate)
            {
                return _messages.Count(m => m.Uid > _recentClaimedUpTo);
            }
        }
    }

    /// <summary>Moves <paramref name="sourceFile"/> (on the same file system) into cur/ as a new message.</summary>
    public uint Add(string sourceFile, MessageFlags flags, DateTimeOffset? internalDate) => Add(sourceFile, flags, [], internalDate);

    /// <summary>Moves <paramref name="sourceFile"/> into cur/ as a new message with flags and keywords (defined here if new).</summary>
    public uint Add(string sourceFile, MessageFlags flags, IReadOnlyCollection<string> keywords, DateTimeOffset? internalDate)
    {
        var size = new FileInfo(sourceFile).Length;
        var baseName = UniqueName(size);
        if (internalDate is { } date)
        {
            // The file's mtime is the INTERNALDATE; it keeps no zone, so the date is kept in UTC throughout.
            internalDate = date.ToUniversalTime();
            File.SetLastWriteTimeUtc(sourceFile, date.UtcDateTime);
        }
        lock (_gate)
        {
            EnsureLoaded();
            var letters = KeywordLetters(keywords, define: true);
            var fileName = baseName + MaildirFlags.ToInfo(flags, letters);
            var target = System.IO.Path.Combine(CurPath, fileName);
            File.Move(sourceFile, target);
            MaildirDelivery.SyncDirectory(CurPath);
            var message = new MaildirMessage(_nextUid++, baseName, fileName, flags, MaildirFlags.Canonical(letters), size,
                internalDate ?? new DateTimeOffset(File.GetLastWriteTimeUtc(target)), ++_highestModSeq);
            _messages = [.. _messages, message];
            Save();
            Changed();
            return message.Uid;
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
            EnsureLoaded();
            var letters = KeywordLetters(change.Keywords, define: change.Operation != FlagOperation.Remove);
            return Change(uids, message => change.Apply(message.Flags, message.OtherLetters, letters), unchangedSince);
        }
    }

    private FlagStoreResult Change(IReadOnlyCollection<uint> uids, Func<MaildirMessage, (MessageFlags Flags, string Other)> change, ulong? unchangedSince)
    {
        lock (_gate)
        {
            EnsureLoaded();
            var wanted = uids.ToHashSet();
            var updated = new List<MaildirMessage>();
            var modified = new List<uint>();
            var messages = _messages.ToArray();
            ulong modSeq = 0;
            for (var i = 0; i < messages.Length; i++)
            {
                var message = messages[i];
                if (!wanted.Contains(message.Uid))
                {
                    continue;
                }
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
                    messages[i] = message;
                }
                updated.Add(message);
            }
            if (modSeq != 0)
            {
                _messages = messages;
                Save();
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
            EnsureLoaded();
            var removed = new List<uint>();
            var kept = new List<MaildirMessage>(_messages.Length);
            foreach (var message in _messages)
            {
                if (remove(message))
                {
                    File.Delete(System.IO.Path.Combine(CurPath, message.FileName));
                    removed.Add(message.Uid);
                }
                else
                {
                    kept.Add(message);
                }
            }
            if (removed.Count > 0)
            {
                _messages = [.. kept];
                RecordVanished(removed, ++_highestModSeq);
                Save();
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
            EnsureLoaded();
            var live = _messages.Select(m => m.Uid).ToArray(); // ascending
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
            _vanished.Add(new VanishedRange(first, last, modSeq));
        }
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
    /// order. The files are copied into the target's tmp/ under this folder's lock, then added under
    /// the target's lock, never both locks at once (a COPY each way between two folders cannot deadlock).
    /// </summary>
    public List<(uint Source, uint Target)> CopyTo(MaildirFolder target, IReadOnlyCollection<uint> uids)
    {
        var staged = new List<(MaildirMessage Message, List<string> Keywords, string TempFile)>();
        try
        {
            lock (_gate)
            {
                EnsureLoaded();
                var wanted = uids.ToHashSet();
                foreach (var message in _messages.Where(m => wanted.Contains(m.Uid)))
                {
                    var temp = System.IO.Path.Combine(target.TmpPath, UniqueName(message.Size) + ".copy");
                    try
                    {
                        File.Copy(System.IO.Path.Combine(CurPath, message.FileName), temp);
                    }
                    catch (FileNotFoundException)
                    {
                        continue;
                    }
                    staged.Add((message, [.. _keywords.Map.NamesOf(message.OtherLetters)], temp));
                }
            }
            // Every keyword is defined in the target before the first message goes in: a full
            // target refuses the COPY as a whole rather than copying some messages without their keywords.
            target.DefineKeywords(staged.SelectMany(s => s.Keywords).Distinct(StringComparer.OrdinalIgnoreCase).ToList());
            var pairs = new List<(uint, uint)>();
            foreach (var (message, keywords, temp) in staged)
            {
                pairs.Add((message.Uid, target.Add(temp, message.Flags, keywords, message.InternalDate)));
            }
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
            EnsureLoaded();
            KeywordLetters(names, define: true);
        }
    }

    /// <summary>Full path of a message's file as of the snapshot; null when it is gone.</summary>
    public string? FilePathOf(uint uid)
    {
        lock (_gate)
        {
            var index = Array.BinarySearch(_messages, new MaildirMessage(uid, "", "", MessageFlags.None, "", 0, default), UidOrder.Instance);
            return index < 0 ? null : System.IO.Path.Combine(CurPath, _messages[index].FileName);
        }
    }

    private void EnsureLoaded()
    {
        if (!_loaded)
        {
            Load();
            TakeNew();
            Save();
        }
    }

    /// <summary>Reads the UID list and cur/; true when the list must be saved again (new, changed or missing messages).</summary>
    private bool Load()
    {
        MaildirDirectories.CreateSubdirectories(Path);
        _keywords.Reload();
        var listed = ReadUidList();
        var changed = listed.Count == 0;
        ulong modSeq = 0;
        ulong Bump() => modSeq = modSeq == 0 ? ++_highestModSeq : modSeq;
        var known = new List<MaildirMessage>();
        var unknown = new List<MaildirMessage>();
        foreach (var file in new DirectoryInfo(CurPath).EnumerateFiles())
        {
            var message = FromFile(file);
            if (listed.Remove(message.BaseName, out var entry))
            {
                // A v1 list kept no flags (Info is null): its messages start at the list's mod-sequence.
                var same = entry.Info is null || entry.Info == MaildirFlags.ToInfo(message.Flags, message.OtherLetters);
                changed |= !same;
                known.Add(message with { Uid = entry.Uid, ModSeq = same ? entry.ModSeq : Bump() });
            }
            else
            {
                unknown.Add(message); // a duplicate base name gets a UID of its own
            }
        }
        if (listed.Count > 0)
        {
            RecordVanished([.. listed.Values.Select(e => e.Uid)], Bump()); // deleted while we were not looking
            changed = true;
        }
        if (unknown.Count > 0)
        {
            changed = true;
            unknown = NumberNew(unknown, Bump());
        }
        _messages = [.. known.OrderBy(m => m.Uid), .. unknown];
        _recentClaimedUpTo = _nextUid - 1;
        _loaded = true;
        return changed;
    }

    /// <summary>The UID list by base name; sets UIDVALIDITY, the next UID and HIGHESTMODSEQ, and a new epoch when there is no readable list.</summary>
    private Dictionary<string, (uint Uid, ulong ModSeq, string? Info)> ReadUidList()
    {
        var byBase = new Dictionary<string, (uint Uid, ulong ModSeq, string? Info)>(StringComparer.Ordinal);
        var listPath = System.IO.Path.Combine(Path, UidListName);
        if (File.Exists(listPath))
        {
            using var reader = new StreamReader(listPath, Encoding.UTF8);
            var header = reader.ReadLine()?.Split(' ');
            var version2 = header is [_, _, _, _, _] && $"{header[0]} {header[1]}" == UidListHeader;
            var version1 = header is [_, _, _, _] && $"{header[0]} {header[1]}" == UidListHeaderV1;
            if ((version1 || version2)
                && uint.TryParse(header![2], NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                && uint.TryParse(header[3], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && (version1 || ulong.TryParse(header[4], NumberStyles.None, CultureInfo.InvariantCulture, out _highestModSeq)))
            {
                (_uidValidity, _nextUid) = (v, n);
                _highestModSeq = Math.Max(_highestModSeq, 1);
                while (reader.ReadLine() is { } line)
                {
                    if ((version2 ? ParseEntry(line) : ParseEntryV1(line)) is { } entry)
                    {
                        if (entry.Uid < _nextUid && entry.ModSeq <= _highestModSeq)
                        {
                            byBase[entry.BaseName] = (entry.Uid, entry.ModSeq, entry.Info);
                        }
                    }
                    else if (version2 && ParseVanished(line) is { } vanished && vanished.Last < _nextUid && vanished.ModSeq <= _highestModSeq)
                    {
                        _vanished.Add(vanished);
                    }
                }
            }
        }
        if (_uidValidity == 0)
        {
            // A new (or unreadable) list starts a new UID epoch: clients must forget cached UIDs and mod-sequences.
            _uidValidity = NewUidValidity();
            (_nextUid, _highestModSeq) = (1, 1);
            _vanished.Clear();
            byBase.Clear();
        }
        return byBase;
    }

    /// <summary>v2 message line: <c>uid modseq :2,info base-name</c>.</summary>
    private static (uint Uid, ulong ModSeq, string? Info, string BaseName)? ParseEntry(string line)
    {
        var parts = line.Split(' ', 4);
        return parts is [var uid, var modSeq, var info, var baseName]
            && uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var u)
            && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
            && info.StartsWith(":2,", StringComparison.Ordinal)
            ? (u, m, info, baseName)
            : null;
    }

    /// <summary>v1 message line: <c>uid base-name</c>, no flags, no mod-sequence.</summary>
    private (uint Uid, ulong ModSeq, string? Info, string BaseName)? ParseEntryV1(string line)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && uint.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            ? (uid, _highestModSeq, null, line[(space + 1)..])
            : null;
    }

    /// <summary>Expunge line: <c>V first:last modseq</c>.</summary>
    private static VanishedRange? ParseVanished(string line)
    {
        var parts = line.Split(' ');
        if (parts is not ["V", var range, var modSeq] || range.Split(':') is not [var first, var last])
        {
            return null;
        }
        return uint.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var f)
            && uint.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var l)
            && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && f <= l
            ? new VanishedRange(f, l, m)
            : null;
    }

    private static MaildirMessage FromFile(FileInfo file)
    {
        var (baseName, flags, other) = MaildirFlags.Parse(file.Name);
        return new MaildirMessage(0, baseName, file.Name, flags, MaildirFlags.Canonical(other), file.Length, file.LastWriteTimeUtc);
    }

    /// <summary>Reconciles with cur/ as it is on disk; true when anything changed.</summary>
    private bool RescanCur()
    {
        var onDisk = new Dictionary<string, FileInfo>(StringComparer.Ordinal);
        foreach (var file in new DirectoryInfo(CurPath).EnumerateFiles())
        {
            onDisk.TryAdd(MaildirFlags.Parse(file.Name).BaseName, file);
        }
        var kept = new List<MaildirMessage>();
        var gone = new List<uint>();
        var changed = false;
        ulong modSeq = 0;
        foreach (var message in _messages)
        {
            if (onDisk.Remove(message.BaseName, out var file))
            {
                var now = FromFile(file);
                if (now.Flags != message.Flags || now.OtherLetters != message.OtherLetters)
                {
                    // Flags changed by another program: a change like any other (RFC 7162 §3.1).
                    modSeq = modSeq == 0 ? ++_highestModSeq : modSeq;
                    kept.Add(message with { FileName = file.Name, Flags = now.Flags, OtherLetters = now.OtherLetters, ModSeq = modSeq });
                    changed = true;
                }
                else
                {
                    changed |= file.Name != message.FileName;
                    kept.Add(message with { FileName = file.Name });
                }
            }
            else
            {
                gone.Add(message.Uid);
            }
        }
        if (!changed && gone.Count == 0 && onDisk.Count == 0)
        {
            return false;
        }
        modSeq = modSeq == 0 ? ++_highestModSeq : modSeq;
        if (gone.Count > 0)
        {
            RecordVanished(gone, modSeq);
        }
        _messages = [.. kept, .. NumberNew([.. onDisk.Values.Select(FromFile)], modSeq)];
        Changed();
        return true;
    }

    /// <summary>Moves delivered files from new/ to cur/ (RFC-less Maildir convention) and numbers them.</summary>
    private bool TakeNew()
    {
        var arrived = new List<MaildirMessage>();
        foreach (var file in new DirectoryInfo(NewPath).EnumerateFiles())
        {
            var (baseName, flags, other) = MaildirFlags.Parse(file.Name);
            var fileName = baseName + MaildirFlags.ToInfo(flags, other);
            try
            {
                File.Move(file.FullName, System.IO.Path.Combine(CurPath, fileName));
            }
            catch (FileNotFoundException)
            {
                continue; // Taken by another process reading the same Maildir.
            }
            arrived.Add(new MaildirMessage(0, baseName, fileName, flags, MaildirFlags.Canonical(other), file.Length, file.LastWriteTimeUtc));
        }
        if (arrived.Count == 0)
        {
            return false;
        }
        _messages = [.. _messages, .. NumberNew(arrived, ++_highestModSeq)];
        Changed();
        return true;
    }

    private List<MaildirMessage> NumberNew(List<MaildirMessage> messages, ulong modSeq) =>
        messages
            .OrderBy(m => m.InternalDate)
            .ThenBy(m => m.BaseName, StringComparer.Ordinal)
            .Select(m => m with { Uid = _nextUid++, ModSeq = modSeq })
            .ToList();

    private void Save()
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"{UidListHeader} {_uidValidity} {_nextUid} {_highestModSeq}\n");
        foreach (var message in _messages)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{message.Uid} {message.ModSeq} {MaildirFlags.ToInfo(message.Flags, message.OtherLetters)} {message.BaseName}\n");
        }
        foreach (var range in _vanished)
        {
            builder.Append(CultureInfo.InvariantCulture, $"V {range.First}:{range.Last} {range.ModSeq}\n");
        }
        var final = System.IO.Path.Combine(Path, UidListName);
        var temporary = final + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(builder.ToString()));
            DurableFile.FlushToDisk(file);
        }
        File.Move(temporary, final, overwrite: true);
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

    private FolderSnapshot Snapshot() => new(_uidValidity, _nextUid, _messages, _version, _highestModSeq, _keywords.Map);

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

    /// <summary>UIDs <c>First..Last</c> (those not present) were expunged at or before <c>ModSeq</c>.</summary>
    private sealed record VanishedRange(uint First, uint Last, ulong ModSeq);

    private sealed class UidOrder : IComparer<MaildirMessage>
    {
        public static readonly UidOrder Instance = new();

        public int Compare(MaildirMessage? x, MaildirMessage? y) => x!.Uid.CompareTo(y!.Uid);
    }
}
