using System.Globalization;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>One message of a folder: its UID, Maildir base name, current file name in cur/ and flags.</summary>
internal sealed record MaildirMessage(uint Uid, string BaseName, string FileName, MessageFlags Flags, string OtherLetters, long Size, DateTimeOffset InternalDate);

/// <summary>What a session sees of a folder at one moment; immutable.</summary>
internal sealed record FolderSnapshot(uint UidValidity, uint UidNext, IReadOnlyList<MaildirMessage> Messages, long Version);

/// <summary>
/// A Maildir folder shared by every session of this process: UIDs, flags and the message list
/// under one lock, so that concurrent sessions see each other's changes. UIDs persist in
/// <c>mailauth-uidlist</c> (UIDVALIDITY, next UID, UID → base name), replaced atomically
/// (written to a temporary file, then renamed over). Files dropped into new/ (local delivery)
/// are moved to cur/ and given UIDs the next time the folder is synchronised.
/// </summary>
internal sealed class MaildirFolder
{
    public const string UidListName = "mailauth-uidlist";
    private const string UidListHeader = "mailauth-uidlist 1";

    private static long _sequence;
    private static long _lastUidValidity;

    private readonly Lock _gate = new();
    private readonly MailboxSignal? _mailbox;
    private MaildirMessage[] _messages = [];
    private uint _uidValidity;
    private uint _nextUid = 1;
    private uint _recentClaimedUpTo;
    private long _version;
    private bool _loaded;
    private TaskCompletionSource _changed = NewSignal();
    private bool _deliveryPending;

    public MaildirFolder(string path, MailboxSignal? mailbox = null) => (Path, _mailbox) = (path, mailbox);

    public string Path { get; }

    public string CurPath => System.IO.Path.Combine(Path, "cur");

    public string NewPath => System.IO.Path.Combine(Path, "new");

    public string TmpPath => System.IO.Path.Combine(Path, "tmp");

    /// <summary>Picks up new/ (and, when <paramref name="rescan"/>, files added to or removed from cur/ behind our back).</summary>
    public FolderSnapshot Synchronize(bool rescan = false)
    {
        lock (_gate)
        {
            var changed = false;
            if (!_loaded)
            {
                Load();
                changed = true;
            }
            else if (rescan)
            {
                changed |= RescanCur();
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
            var claimed = new HashSet<uint>();
            foreach (var message in _messages)
            {
                if (message.Uid > _recentClaimedUpTo && message.Uid < uidNext)
                {
                    claimed.Add(message.Uid);
                }
            }
            _recentClaimedUpTo = Math.Max(_recentClaimedUpTo, uidNext - 1);
            return claimed;
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
    public uint Add(string sourceFile, MessageFlags flags, DateTimeOffset? internalDate)
    {
        var size = new FileInfo(sourceFile).Length;
        var baseName = UniqueName(size);
        var fileName = baseName + MaildirFlags.ToInfo(flags, "");
        var target = System.IO.Path.Combine(CurPath, fileName);
        if (internalDate is { } date)
        {
            // The file's mtime is the INTERNALDATE; it keeps no zone, so the date is kept in UTC throughout.
            internalDate = date.ToUniversalTime();
            File.SetLastWriteTimeUtc(sourceFile, date.UtcDateTime);
        }
        lock (_gate)
        {
            EnsureLoaded();
            File.Move(sourceFile, target);
            MaildirDelivery.SyncDirectory(CurPath);
            var message = new MaildirMessage(_nextUid++, baseName, fileName, flags, "", size, internalDate ?? new DateTimeOffset(File.GetLastWriteTimeUtc(target)));
            _messages = [.. _messages, message];
            Save();
            Changed();
            return message.Uid;
        }
    }

    /// <summary>Changes the flags of the given UIDs; returns the messages as they are now (those that still exist).</summary>
    public List<MaildirMessage> SetFlags(IReadOnlyCollection<uint> uids, Func<MessageFlags, MessageFlags> change)
    {
        lock (_gate)
        {
            EnsureLoaded();
            var wanted = uids.ToHashSet();
            var updated = new List<MaildirMessage>();
            var messages = _messages.ToArray();
            var anyChange = false;
            for (var i = 0; i < messages.Length; i++)
            {
                var message = messages[i];
                if (!wanted.Contains(message.Uid))
                {
                    continue;
                }
                var flags = change(message.Flags);
                if (flags != message.Flags)
                {
                    var fileName = message.BaseName + MaildirFlags.ToInfo(flags, message.OtherLetters);
                    try
                    {
                        File.Move(System.IO.Path.Combine(CurPath, message.FileName), System.IO.Path.Combine(CurPath, fileName));
                    }
                    catch (FileNotFoundException)
                    {
                        continue; // Removed behind our back; the next rescan drops it.
                    }
                    message = message with { Flags = flags, FileName = fileName };
                    messages[i] = message;
                    anyChange = true;
                }
                updated.Add(message);
            }
            if (anyChange)
            {
                _messages = messages;
                Changed();
            }
            return updated;
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
                Save();
                Changed();
            }
            return removed;
        }
    }

    /// <summary>
    /// Copies the given messages into <paramref name="target"/> with their flags and dates;
    /// returns (source UID, new UID) pairs in source UID order. The files are copied into the
    /// target's tmp/ under this folder's lock, then added under the target's lock, never both
    /// locks at once (a COPY each way between two folders cannot deadlock).
    /// </summary>
    public List<(uint Source, uint Target)> CopyTo(MaildirFolder target, IReadOnlyCollection<uint> uids)
    {
        var staged = new List<(MaildirMessage Message, string TempFile)>();
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
                    staged.Add((message, temp));
                }
            }
            var pairs = new List<(uint, uint)>();
            foreach (var (message, temp) in staged)
            {
                pairs.Add((message.Uid, target.Add(temp, message.Flags, message.InternalDate)));
            }
            staged.Clear();
            return pairs;
        }
        finally
        {
            foreach (var (_, temp) in staged)
            {
                File.Delete(temp);
            }
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

    private void Load()
    {
        MaildirDirectories.CreateSubdirectories(Path);
        var byBase = new Dictionary<string, uint>(StringComparer.Ordinal);
        var listPath = System.IO.Path.Combine(Path, UidListName);
        if (File.Exists(listPath))
        {
            using var reader = new StreamReader(listPath, Encoding.UTF8);
            var header = reader.ReadLine()?.Split(' ');
            if (header is [_, _, var validity, var next] && $"{header[0]} {header[1]}" == UidListHeader
                && uint.TryParse(validity, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                && uint.TryParse(next, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                (_uidValidity, _nextUid) = (v, n);
                while (reader.ReadLine() is { } line)
                {
                    var space = line.IndexOf(' ', StringComparison.Ordinal);
                    if (space > 0 && uint.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var uid) && uid < _nextUid)
                    {
                        byBase[line[(space + 1)..]] = uid;
                    }
                }
            }
        }
        if (_uidValidity == 0)
        {
            // A new (or unreadable) list starts a new UID epoch: clients must forget cached UIDs.
            _uidValidity = NewUidValidity();
            _nextUid = 1;
            byBase.Clear();
        }
        var known = new List<MaildirMessage>();
        var unknown = new List<MaildirMessage>();
        foreach (var file in new DirectoryInfo(CurPath).EnumerateFiles())
        {
            var (baseName, flags, other) = MaildirFlags.Parse(file.Name);
            var message = new MaildirMessage(0, baseName, file.Name, flags, other, file.Length, file.LastWriteTimeUtc);
            if (byBase.TryGetValue(baseName, out var uid))
            {
                known.Add(message with { Uid = uid });
                byBase.Remove(baseName); // a duplicate base name gets a UID of its own
            }
            else
            {
                unknown.Add(message);
            }
        }
        _messages = [.. known.OrderBy(m => m.Uid), .. NumberNew(unknown)];
        _recentClaimedUpTo = _nextUid - 1;
        _loaded = true;
    }

    /// <summary>Reconciles with cur/ as it is on disk; true when anything changed.</summary>
    private bool RescanCur()
    {
        var onDisk = new DirectoryInfo(CurPath).EnumerateFiles().ToDictionary(f => MaildirFlags.Parse(f.Name).BaseName, StringComparer.Ordinal);
        var kept = new List<MaildirMessage>();
        var changed = false;
        foreach (var message in _messages)
        {
            if (onDisk.Remove(message.BaseName, out var file))
            {
                var (_, flags, other) = MaildirFlags.Parse(file.Name);
                changed |= file.Name != message.FileName;
                kept.Add(message with { FileName = file.Name, Flags = flags, OtherLetters = other });
            }
            else
            {
                changed = true;
            }
        }
        var added = onDisk.Values.Select(f =>
        {
            var (baseName, flags, other) = MaildirFlags.Parse(f.Name);
            return new MaildirMessage(0, baseName, f.Name, flags, other, f.Length, f.LastWriteTimeUtc);
        }).ToList();
        if (!changed && added.Count == 0)
        {
            return false;
        }
        _messages = [.. kept, .. NumberNew(added)];
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
            arrived.Add(new MaildirMessage(0, baseName, fileName, flags, other, file.Length, file.LastWriteTimeUtc));
        }
        if (arrived.Count == 0)
        {
            return false;
        }
        _messages = [.. _messages, .. NumberNew(arrived)];
        Changed();
        return true;
    }

    private IEnumerable<MaildirMessage> NumberNew(List<MaildirMessage> messages) =>
        messages
            .OrderBy(m => m.InternalDate)
            .ThenBy(m => m.BaseName, StringComparer.Ordinal)
            .Select(m => m with { Uid = _nextUid++ })
            .ToList();

    private void Save()
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"{UidListHeader} {_uidValidity} {_nextUid}\n");
        foreach (var message in _messages)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{message.Uid} {message.BaseName}\n");
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

    private FolderSnapshot Snapshot() => new(_uidValidity, _nextUid, _messages, _version);

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

    private sealed class UidOrder : IComparer<MaildirMessage>
    {
        public static readonly UidOrder Instance = new();

        public int Compare(MaildirMessage? x, MaildirMessage? y) => x!.Uid.CompareTo(y!.Uid);
    }
}
