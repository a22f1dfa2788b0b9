using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>What a snapshot holds, in arrays its reader may still change (the journal's tail is replayed onto them).</summary>
internal sealed class SnapshotData
{
    public required uint UidValidity { get; init; }
    public required uint NextUid { get; init; }
    public required ulong HighestModSeq { get; init; }
    public required long CurStamp { get; init; }

    /// <summary>The journal's length when the snapshot was written: the snapshot is its state up to there.</summary>
    public required long JournalLength { get; init; }

    /// <summary><see cref="FolderIndexSnapshot.Hash"/> of the journal's last bytes before <see cref="JournalLength"/> (<see cref="FolderIndexSnapshot.TailBytes"/>).</summary>
    public required ulong JournalTailHash { get; init; }
    public required long JournalRecords { get; init; }
    public required List<VanishedRange> Vanished { get; init; }

    /// <summary>The messages, read in place from the file's bytes (which the tail's replay may change).</summary>
    public required FlatMessages Flat { get; init; }

    /// <summary>The info texts the messages' info numbers name; the replay may add some.</summary>
    public required List<string> InfoTexts { get; init; }
}

/// <summary>
/// <c>mailauth-uidlist.snapshot</c>: the folder index's state at its last compaction, in binary, so
/// that the first SELECT after a restart reads a few arrays instead of parsing a record per message
/// (Dovecot memory-maps its binary <c>dovecot.index</c> for the same reason). The journal
/// (<see cref="FolderIndexFile"/>) stays the authority: the snapshot names the journal's length when it
/// was written and a hash of the journal's last bytes before it, the records appended since are
/// replayed on top, and a snapshot that does not match its journal, is torn or fails its checksum is
/// ignored (the journal is read instead and a new snapshot written). Written beside the journal as a
/// temporary file, flushed to disk and renamed over the old one. Little-endian, as every platform .NET runs on here.
/// </summary>
internal static class FolderIndexSnapshot
{
    public const string FileName = FolderIndexFile.FileName + ".snapshot";

    /// <summary>How much of the journal's end, before the snapshot's length, must be as it was.</summary>
    public const int TailBytes = 4096;

    private static ReadOnlySpan<byte> Magic => "MAIDX001"u8;
    private const int HeaderLength = 88;
    private const int HashOffset = 80;
    private const int VanishedBytes = 16;

    public static string PathIn(string folderPath) => Path.Combine(folderPath, FileName);

    /// <summary>The hash the snapshot keeps of the journal's end before <paramref name="journalLength"/>.</summary>
    public static ulong JournalTail(ReadOnlySpan<byte> journalEnd) => Hash(journalEnd, 0x5EED);

    /// <summary>
    /// Writes the state (<paramref name="journal"/> is the journal just written: its length and end
    /// tie the snapshot to it). A snapshot that cannot be written is removed instead: it is only a
    /// faster way to read the journal.
    /// </summary>
    public static void Write(string folderPath, ReadOnlySpan<byte> journal, long journalRecords, uint uidValidity, uint nextUid,
        ulong highestModSeq, long curStamp, MessageList messages, IReadOnlyList<VanishedRange> vanished)
    {
        var path = PathIn(folderPath);
        if (!BitConverter.IsLittleEndian)
        {
            return;
        }
        var count = messages.Count;
        var infoIds = new Dictionary<string, ushort>(StringComparer.Ordinal);
        var infoTexts = new List<string>();
        var infos = new ushort[count];
        var names = new MemoryStream();
        var bounds = new int[count + 1];
        var (uids, modSeqs, sizes, ticks) = (new uint[count], new ulong[count], new long[count], new long[count]);
        for (var i = 0; i < count; i++)
        {
            var message = messages.Peek(i);
            var info = MaildirFlags.ToInfo(message.Flags, message.OtherLetters);
            if (!infoIds.TryGetValue(info, out var id))
            {
                if (infoTexts.Count == ushort.MaxValue)
                {
                    Remove(path);
                    return;
                }
                infoIds[info] = id = (ushort)infoTexts.Count;
                infoTexts.Add(info);
            }
            (uids[i], modSeqs[i], sizes[i], ticks[i], infos[i]) = (message.Uid, message.ModSeq, message.Size, message.InternalDate.UtcTicks, id);
            names.Write(Encoding.UTF8.GetBytes(message.BaseName));
            bounds[i + 1] = (int)names.Length;
        }
        var payload = new MemoryStream();
        Span<byte> entry = stackalloc byte[VanishedBytes];
        foreach (var range in vanished)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(entry, range.First);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], range.Last);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], range.ModSeq);
            payload.Write(entry);
        }
        payload.Write(MemoryMarshal.AsBytes(modSeqs.AsSpan()));
        payload.Write(MemoryMarshal.AsBytes(sizes.AsSpan()));
        payload.Write(MemoryMarshal.AsBytes(ticks.AsSpan()));
        payload.Write(MemoryMarshal.AsBytes(uids.AsSpan()));
        payload.Write(MemoryMarshal.AsBytes(bounds.AsSpan()));
        payload.Write(MemoryMarshal.AsBytes(infos.AsSpan()));
        Span<byte> length = stackalloc byte[2];
        foreach (var text in infoTexts)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)bytes.Length);
            payload.Write(length);
            payload.Write(bytes);
        }
        names.Position = 0;
        names.CopyTo(payload);

        var header = new byte[HeaderLength];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), uidValidity);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), nextUid);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), count);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(20), vanished.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), highestModSeq);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(32), curStamp);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(40), journal.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(48), JournalTail(journal[Math.Max(0, journal.Length - TailBytes)..]));
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(56), journalRecords);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(64), infoTexts.Count);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(68), (int)names.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(72), payload.Length);
        var body = payload.GetBuffer().AsSpan(0, (int)payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(HashOffset), Checksum(header, body));

        var temporary = path + ".tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                file.Write(header);
                file.Write(body);
                DurableFile.FlushToDisk(file);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Remove(temporary);
            Remove(path);
        }
    }

    private static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: a snapshot that does not match the journal is recognised and ignored on load.
        }
    }

    /// <summary>The snapshot, or null when there is none or it is torn, damaged or not one this code wrote.</summary>
    public static SnapshotData? Read(string folderPath)
    {
        byte[] bytes;
        try
        {
            using var handle = File.OpenHandle(PathIn(folderPath));
            var length = RandomAccess.GetLength(handle);
            if (length < HeaderLength || length > int.MaxValue)
            {
                return null;
            }
            // Not zeroed first: every byte is read over at once.
            bytes = GC.AllocateUninitializedArray<byte>((int)length);
            if (RandomAccess.Read(handle, bytes, 0) != length)
            {
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (!BitConverter.IsLittleEndian || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            return null;
        }
        var header = bytes.AsSpan(0, HeaderLength);
        var count = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        var vanishedCount = BinaryPrimitives.ReadInt32LittleEndian(header[20..]);
        var infoCount = BinaryPrimitives.ReadInt32LittleEndian(header[64..]);
        var namesLength = BinaryPrimitives.ReadInt32LittleEndian(header[68..]);
        var payloadLength = BinaryPrimitives.ReadInt64LittleEndian(header[72..]);
        if (count < 0 || vanishedCount < 0 || infoCount < 0 || namesLength < 0 || payloadLength != bytes.Length - HeaderLength
            || ((long)vanishedCount * VanishedBytes) + (34L * count) + 4 + namesLength > payloadLength
            || BinaryPrimitives.ReadUInt64LittleEndian(header[HashOffset..]) != Checksum(header, bytes.AsSpan(HeaderLength)))
        {
            return null;
        }
        var position = HeaderLength;
        var vanished = new List<VanishedRange>(vanishedCount);
        for (var i = 0; i < vanishedCount; i++, position += VanishedBytes)
        {
            var entry = bytes.AsSpan(position, VanishedBytes);
            vanished.Add(new VanishedRange(BinaryPrimitives.ReadUInt32LittleEndian(entry), BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(entry[8..])));
        }
        var arrays = position;
        position += FlatMessages.ArraysLength(count);
        var infoTexts = new List<string>(infoCount);
        for (var i = 0; i < infoCount; i++)
        {
            if (position + 2 > bytes.Length || position + 2 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(position)) > bytes.Length)
            {
                return null;
            }
            var length = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(position));
            infoTexts.Add(Encoding.UTF8.GetString(bytes, position + 2, length));
            position += 2 + length;
        }
        if (position + namesLength != bytes.Length)
        {
            return null;
        }
        var flat = new FlatMessages(bytes, arrays, count, position, [.. infoTexts]);
        if (!Consistent(flat, infoTexts.Count, namesLength))
        {
            return null;
        }
        return new SnapshotData
        {
            UidValidity = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]),
            NextUid = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]),
            HighestModSeq = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]),
            CurStamp = BinaryPrimitives.ReadInt64LittleEndian(header[32..]),
            JournalLength = BinaryPrimitives.ReadInt64LittleEndian(header[40..]),
            JournalTailHash = BinaryPrimitives.ReadUInt64LittleEndian(header[48..]),
            JournalRecords = BinaryPrimitives.ReadInt64LittleEndian(header[56..]),
            Vanished = vanished,
            Flat = flat,
            InfoTexts = infoTexts,
        };
    }

    /// <summary>UIDs ascending, name ranges in order and within the names, info numbers within the table: what the readers rely on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Consistent(FlatMessages flat, int infoCount, int namesLength)
    {
        var uids = flat.Uids;
        var bounds = flat.NameBounds;
        var infos = flat.Infos;
        if (bounds[0] != 0 || bounds[^1] != namesLength)
        {
            return false;
        }
        for (var i = 0; i < uids.Length; i++)
        {
            if (uids[i] == 0 || (i > 0 && uids[i] <= uids[i - 1]) || bounds[i + 1] < bounds[i] || infos[i] >= infoCount)
            {
                return false;
            }
        }
        return true;
    }

    private static ulong Checksum(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload) =>
        Hash(payload, Hash(header[..HashOffset], 0));

    /// <summary>
    /// A 64-bit hash in four independent lanes of 8 bytes (the multiply-rotate rounds of xxHash64), so that
    /// checking a 100,000-message snapshot costs a few milliseconds; it tells a whole snapshot from a torn or garbled one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ulong Hash(ReadOnlySpan<byte> data, ulong seed)
    {
        const ulong Prime1 = 0x9E3779B185EBCA87UL;
        const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        var (a, b, c, d) = (seed + Prime1 + Prime2, seed + Prime2, seed, seed - Prime1);
        var i = 0;
        for (; i + 4 <= words.Length; i += 4)
        {
            a = BitOperations.RotateLeft(a + (words[i] * Prime2), 31) * Prime1;
            b = BitOperations.RotateLeft(b + (words[i + 1] * Prime2), 31) * Prime1;
            c = BitOperations.RotateLeft(c + (words[i + 2] * Prime2), 31) * Prime1;
            d = BitOperations.RotateLeft(d + (words[i + 3] * Prime2), 31) * Prime1;
        }
        var hash = BitOperations.RotateLeft(a, 1) + BitOperations.RotateLeft(b, 7) + BitOperations.RotateLeft(c, 12) + BitOperations.RotateLeft(d, 18);
        for (; i < words.Length; i++)
        {
            hash = (BitOperations.RotateLeft(hash ^ (BitOperations.RotateLeft(words[i] * Prime2, 31) * Prime1), 27) * Prime1) + Prime2;
        }
        foreach (var value in data[(words.Length * 8)..])
        {
            hash = BitOperations.RotateLeft(hash ^ (value * Prime1), 11) * Prime2;
        }
        hash += (ulong)data.Length;
        hash ^= hash >> 33;
        hash *= Prime2;
        hash ^= hash >> 29;
        hash *= Prime1;
        return hash ^ (hash >> 32);
    }
}
