using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>What one header cache record holds of a message.</summary>
internal enum CachedPart : byte
{
    /// <summary>ENVELOPE and the header fields message lists ask for.</summary>
    Header = (byte)'H',

    /// <summary>BODYSTRUCTURE and BODY.</summary>
    Structure = (byte)'S',
}

/// <summary>
/// <c>mailauth-headercache</c>: what message lists need of each message (ENVELOPE, BODYSTRUCTURE,
/// the header fields clients list), so that a FETCH of the whole folder or a header SEARCH opens no
/// message file once the cache is filled. One per folder per process (held by the shared
/// <see cref="MaildirFolder"/>), filled on first use by whichever session needs an entry, and kept
/// beside the folder as an append-only file: a line naming UIDVALIDITY, then binary records
/// <c>kind | length | checksum | uid | size | base name | payload</c>. An entry belongs to the
/// message's immutable identity (UID, Maildir base name and size under that UIDVALIDITY); a record
/// whose identity no longer matches a message is never used. The cache is never the only copy of
/// anything: a record that does not verify (torn by a crash, overwritten) ends the file there, and
/// what followed is simply made again from the messages; another UIDVALIDITY starts the file anew.
/// Records of expunged messages are dropped when the file is next loaded, if they are most of it.
/// </summary>
internal sealed class HeaderCache(string folderPath)
{
    public const string FileName = "mailauth-headercache";
    /// <summary>
    /// The format's version is part of the first line: a file of another version is started anew,
    /// never read. 2: Header records hold each line's field and the search-ready text; the checksum
    /// takes 8 bytes at a time.
    /// </summary>
    private const string Header = "mailauth-headercache 2";

    /// <summary>kind (1) + length (4) + checksum (4), then uid (4) + size (8) + base name length (2).</summary>
    private const int FixedBytes = 9;
    private const int IdentityBytes = 14;

    /// <summary>A record is at most this long: longer ones are never written, and a length beyond it is damage.</summary>
    public const int MaxRecordBytes = 1024 * 1024;

    /// <summary>New records are written out once this many bytes wait (and at the end of each command).</summary>
    private const int FlushBytes = 256 * 1024;

    /// <summary>The file is rewritten at load when records of gone messages take more than the live ones plus this.</summary>
    private const long CompactionSlack = 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly string _path = Path.Combine(folderPath, FileName);
    private readonly Dictionary<uint, Slots> _entries = [];
    private readonly MemoryStream _pending = new();
    private uint _uidValidity;

    /// <summary>Where the whole records on disk end (and the pending ones will start).</summary>
    private long _fileLength;

    /// <summary>True after an I/O error: the cache is left alone (every message read from its file) until the next load.</summary>
    private bool _disabled;

    /// <summary>
    /// A reader for one command, the cache loaded for <paramref name="uidValidity"/> first (on first
    /// use, or anew when the folder's UIDVALIDITY changed); <paramref name="messages"/> is the folder's
    /// UID-ordered message list, which decides what the file still holds of use.
    /// </summary>
    public HeaderCacheReader Open(uint uidValidity, IReadOnlyList<MaildirMessage> messages)
    {
        lock (_gate)
        {
            if (_uidValidity != uidValidity)
            {
                Load(uidValidity, messages);
            }
        }
        return new HeaderCacheReader(this, _path);
    }

    /// <summary>Entries held in memory (tests).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Where a part's record is: in the file, or (at or past <see cref="_fileLength"/>) still pending, when it is then copied out.</summary>
    internal (long Offset, int Length, byte[]? Pending) Locate(uint uid, CachedPart part)
    {
        lock (_gate)
        {
            if (_disabled || !_entries.TryGetValue(uid, out var slots))
            {
                return (-1, 0, null);
            }
            var (offset, length) = part == CachedPart.Header ? (slots.HeaderAt, slots.HeaderLength) : (slots.StructureAt, slots.StructureLength);
            if (length == 0 || offset < _fileLength)
            {
                return (length == 0 ? -1 : offset, length, null);
            }
            return (offset, length, _pending.GetBuffer().AsSpan((int)(offset - _fileLength), length).ToArray());
        }
    }

    /// <summary>Adds a record (written out with the next flush); a payload too large for a record is not cached.</summary>
    internal void Add(uint uid, string baseName, long size, CachedPart part, ReadOnlySpan<byte> payload)
    {
        var name = Encoding.UTF8.GetBytes(baseName);
        var length = IdentityBytes + name.Length + payload.Length;
        if (FixedBytes + length > MaxRecordBytes || name.Length > ushort.MaxValue)
        {
            return;
        }
        var record = new byte[FixedBytes + length];
        record[0] = (byte)part;
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(1), length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(FixedBytes), uid);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(FixedBytes + 4), size);
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(FixedBytes + 12), (ushort)name.Length);
        name.CopyTo(record.AsSpan(FixedBytes + IdentityBytes));
        payload.CopyTo(record.AsSpan(FixedBytes + IdentityBytes + name.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(5), Checksum(record));
        lock (_gate)
        {
            if (_disabled)
            {
                return;
            }
            var offset = _fileLength + _pending.Length;
            _pending.Write(record);
            _entries[uid] = _entries.GetValueOrDefault(uid).With(part, offset, record.Length);
            if (_pending.Length >= FlushBytes)
            {
                FlushLocked();
            }
        }
    }

    /// <summary>Forgets a record that did not verify when read, so that it is made again.</summary>
    internal void Discard(uint uid, CachedPart part)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(uid, out var slots))
            {
                _entries[uid] = slots.With(part, 0, 0);
            }
        }
    }

    /// <summary>Writes the pending records to the file (no flush to disk: a torn record is recognised and dropped).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            FlushLocked();
        }
    }

    /// <summary>
    /// The payload of a record read back, when it is whole (checksum) and of this message (UID, base
    /// name, size); otherwise empty.
    /// </summary>
    internal static ReadOnlyMemory<byte>? Verify(ReadOnlyMemory<byte> record, uint uid, string baseName, long size, CachedPart part)
    {
        var bytes = record.Span;
        if (bytes.Length < FixedBytes + IdentityBytes || bytes[0] != (byte)part
            || BinaryPrimitives.ReadInt32LittleEndian(bytes[1..]) != bytes.Length - FixedBytes
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[5..]) != Checksum(bytes)
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[FixedBytes..]) != uid
            || BinaryPrimitives.ReadInt64LittleEndian(bytes[(FixedBytes + 4)..]) != size)
        {
            return null;
        }
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(FixedBytes + 12)..]);
        var payloadStart = FixedBytes + IdentityBytes + nameLength;
        if (payloadStart > bytes.Length || !SameName(bytes.Slice(FixedBytes + IdentityBytes, nameLength), baseName))
        {
            return null;
        }
        return record[payloadStart..];
    }

    private static bool SameName(ReadOnlySpan<byte> utf8, string baseName)
    {
        Span<byte> expected = stackalloc byte[256];
        var count = Encoding.UTF8.GetMaxByteCount(baseName.Length) <= expected.Length
            ? Encoding.UTF8.GetBytes(baseName, expected)
            : -1;
        return count >= 0 ? utf8.SequenceEqual(expected[..count]) : utf8.SequenceEqual(Encoding.UTF8.GetBytes(baseName));
    }

    private void FlushLocked()
    {
        if (_pending.Length == 0 || _disabled)
        {
            return;
        }
        try
        {
            using var file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            if (_fileLength == 0)
            {
                file.SetLength(0);
                file.Write(Encoding.ASCII.GetBytes($"{Header} {_uidValidity}\n"));
                _fileLength = file.Position;
                MoveSlots(_fileLength);
            }
            file.Position = _fileLength;
            file.Write(_pending.GetBuffer().AsSpan(0, (int)_pending.Length));
            file.SetLength(file.Position);
            _fileLength = file.Position;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Disable();
        }
        _pending.SetLength(0);
    }

    /// <summary>The first flush of a new file writes its header line first: pending offsets move by its length.</summary>
    private void MoveSlots(long by)
    {
        foreach (var uid in _entries.Keys.ToList())
        {
            var slots = _entries[uid];
            _entries[uid] = slots with
            {
                HeaderAt = slots.HeaderLength > 0 ? slots.HeaderAt + by : 0,
                StructureAt = slots.StructureLength > 0 ? slots.StructureAt + by : 0,
            };
        }
    }

    private void Disable()
    {
        _disabled = true;
        _entries.Clear();
        _pending.SetLength(0);
    }

    /// <summary>
    /// Reads the file's records (streamed, verified one by one) and keeps where those of live messages
    /// are; cuts the file at the first record that does not verify; starts it anew for another
    /// UIDVALIDITY; compacts it when gone messages' records are most of it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Load(uint uidValidity, IReadOnlyList<MaildirMessage> messages)
    {
        _uidValidity = uidValidity;
        _entries.Clear();
        _pending.SetLength(0);
        _fileLength = 0;
        _disabled = false;
        try
        {
            if (!File.Exists(_path))
            {
                return;
            }
            using var file = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1024 * 1024);
            var headerLine = Encoding.ASCII.GetBytes($"{Header} {uidValidity}\n");
            var start = new byte[headerLine.Length];
            if (file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) != start.Length || !start.AsSpan().SequenceEqual(headerLine))
            {
                file.SetLength(0); // another UIDVALIDITY, or not ours: the first flush writes it anew
                return;
            }
            var position = (long)headerLine.Length;
            var live = 0L;
            var fixedPart = new byte[FixedBytes];
            var record = new byte[4096];
            while (file.ReadAtLeast(fixedPart, FixedBytes, throwOnEndOfStream: false) == FixedBytes)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(fixedPart.AsSpan(1));
                if (length < IdentityBytes || length > MaxRecordBytes - FixedBytes || fixedPart[0] is not ((byte)'H' or (byte)'S'))
                {
                    break;
                }
                if (record.Length < FixedBytes + length)
                {
                    record = new byte[Math.Max(FixedBytes + length, record.Length * 2)];
                }
                fixedPart.CopyTo(record, 0);
                if (file.ReadAtLeast(record.AsSpan(FixedBytes, length), length, throwOnEndOfStream: false) != length
                    || BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(5)) != Checksum(record.AsSpan(0, FixedBytes + length)))
                {
                    break;
                }
                var uid = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(FixedBytes));
                var index = MaildirFolder.IndexOf(messages, uid);
                var part = (CachedPart)record[0];
                if (index >= 0 && Verify(record.AsMemory(0, FixedBytes + length), uid, messages[index].BaseName, messages[index].Size, part) is not null)
                {
                    _entries[uid] = _entries.GetValueOrDefault(uid).With(part, position, FixedBytes + length);
                    live += FixedBytes + length;
                }
                position += FixedBytes + length;
            }
            if (position < file.Length)
            {
                file.SetLength(position); // a torn or damaged record: what follows it is made again
            }
            _fileLength = position;
            if (position - headerLine.Length > 2 * live + CompactionSlack)
            {
                Compact(file, headerLine);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Disable();
        }
    }

    /// <summary>Rewrites the file with the live records only, into a new file renamed over the old one.</summary>
    private void Compact(FileStream file, byte[] headerLine)
    {
        var temporary = _path + ".tmp";
        using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1024 * 1024))
        {
            output.Write(headerLine);
            var buffer = new byte[4096];
            foreach (var uid in _entries.Keys.Order().ToList())
            {
                var slots = _entries[uid];
                var moved = slots;
                foreach (var part in (ReadOnlySpan<CachedPart>)[CachedPart.Header, CachedPart.Structure])
                {
                    var (offset, length) = part == CachedPart.Header ? (slots.HeaderAt, slots.HeaderLength) : (slots.StructureAt, slots.StructureLength);
                    if (length == 0)
                    {
                        continue;
                    }
                    if (buffer.Length < length)
                    {
                        buffer = new byte[length];
                    }
                    RandomAccess.Read(file.SafeFileHandle, buffer.AsSpan(0, length), offset);
                    moved = moved.With(part, output.Position, length);
                    output.Write(buffer, 0, length);
                }
                _entries[uid] = moved;
            }
            _fileLength = output.Position;
        }
        File.Move(temporary, _path, overwrite: true);
    }

    /// <summary>
    /// A 64-bit multiply-rotate hash over the record, 8 bytes at a time (FNV-1a's constants), the
    /// checksum field taken as zero, folded to 32 bits: every record is checked each time it is read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint Checksum(ReadOnlySpan<byte> record)
    {
        Span<byte> head = stackalloc byte[16];
        record[..16].CopyTo(head);
        head[5..FixedBytes].Clear();
        var hash = Mix(14695981039346656037UL, head);
        hash = Mix(hash, record[16..]);
        return (uint)(hash ^ (hash >> 32));
    }

    private static ulong Mix(ulong hash, ReadOnlySpan<byte> bytes)
    {
        const ulong Prime = 1099511628211UL;
        var i = 0;
        for (; i + 8 <= bytes.Length; i += 8)
        {
            hash = BitOperations.RotateLeft(unchecked((hash ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..])) * Prime), 29);
        }
        for (; i < bytes.Length; i++)
        {
            hash = unchecked((hash ^ bytes[i]) * Prime);
        }
        return hash;
    }

    /// <summary>Where a message's two records are; a length of 0: none.</summary>
    private readonly record struct Slots(long HeaderAt, int HeaderLength, long StructureAt, int StructureLength)
    {
        public Slots With(CachedPart part, long offset, int length) =>
            part == CachedPart.Header ? this with { HeaderAt = offset, HeaderLength = length } : this with { StructureAt = offset, StructureLength = length };
    }
}

/// <summary>
/// One command's reads of a <see cref="HeaderCache"/>: records come through a window of the file
/// read 64 KiB at a time (a message list reads the records in the order they were written, so
/// a whole folder costs a few reads per megabyte). Disposing writes out what the command added.
/// </summary>
internal sealed class HeaderCacheReader(HeaderCache cache, string path) : IDisposable
{
    private const int WindowBytes = 64 * 1024;

    private Microsoft.Win32.SafeHandles.SafeFileHandle? _file;
    private bool _missing;
    private byte[] _window = [];
    private long _windowStart;
    private int _windowLength;

    /// <summary>The payload cached for this message, or null when there is none (or it does not verify).</summary>
    public ReadOnlyMemory<byte>? Find(MaildirMessage message, CachedPart part)
    {
        var (offset, length, pending) = cache.Locate(message.Uid, part);
        if (offset < 0)
        {
            return null;
        }
        var record = pending is not null ? pending.AsMemory() : Read(offset, length);
        var payload = record is { } bytes ? HeaderCache.Verify(bytes, message.Uid, message.BaseName, message.Size, part) : null;
        if (payload is null)
        {
            cache.Discard(message.Uid, part);
        }
        return payload;
    }

    public void Add(MaildirMessage message, CachedPart part, ReadOnlySpan<byte> payload) =>
        cache.Add(message.Uid, message.BaseName, message.Size, part, payload);

    private ReadOnlyMemory<byte>? Read(long offset, int length)
    {
        if (offset >= _windowStart && offset + length <= _windowStart + _windowLength)
        {
            return _window.AsMemory((int)(offset - _windowStart), length);
        }
        if (_file is null && !_missing)
        {
            try
            {
                _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _missing = true;
            }
        }
        if (_file is null)
        {
            return null;
        }
        // A new array each time: payloads handed out earlier stay valid for the rest of the command.
        _window = new byte[Math.Max(WindowBytes, length)];
        _windowStart = offset;
        _windowLength = RandomAccess.Read(_file, _window, offset);
        return _windowLength >= length ? _window.AsMemory(0, length) : null;
    }

    public void Dispose()
    {
        _file?.Dispose();
        cache.Flush();
    }
}
