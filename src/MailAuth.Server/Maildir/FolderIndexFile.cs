using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>One message as the folder index lists it; <c>Size</c> and <c>Date</c> are null in lists older than version 3.</summary>
internal sealed record IndexEntry(uint Uid, ulong ModSeq, string Info, string BaseName, long? Size, DateTimeOffset? Date);

/// <summary>An expunged UID range (RFC 7162 §3.2.5.1: VANISHED (EARLIER) needs the mod-sequence of each expunge).</summary>
internal sealed record VanishedRange(uint First, uint Last, ulong ModSeq);

/// <summary>
/// What <see cref="FolderIndexFile.Read"/> found. <c>CurStamp</c> is the modification time of cur/
/// right after the last change this index records: when cur/ still has it, nothing changed the
/// folder since, and the list can be used without reading the directory.
/// </summary>
internal sealed record IndexContents(
    int Version, uint UidValidity, uint NextUid, ulong HighestModSeq, Dictionary<uint, IndexEntry> Messages, List<VanishedRange> Vanished, long CurStamp);

/// <summary>What <see cref="FolderIndexFile.Load"/> found, the messages in UID order.</summary>
internal sealed record LoadedIndex(
    int Version, uint UidValidity, uint NextUid, ulong HighestModSeq, MessageList Messages, List<VanishedRange> Vanished, long CurStamp);

/// <summary>
/// <c>mailauth-uidlist</c> version 3: a journal. The header names UIDVALIDITY; each change appends
/// records (a message added, its flags changed, UIDs expunged) and ends with a state record (next UID,
/// HIGHESTMODSEQ, cur/'s modification time), written together and flushed to disk once, so that
/// adding one message costs a few dozen bytes instead of rewriting the list. Each line carries a
/// checksum of its text: a record torn by a crash (kill -9, power loss) is recognised and dropped,
/// and the file is cut back to the last whole record before the next append. Once the journal holds
/// more records than the folder has messages it is compacted: the current state written to a new
/// file, flushed and renamed over. Versions 1 and 2 (one line per message, rewritten on each change)
/// are still read, and replaced by a version 3 file on the first change. Each compaction also writes
/// a binary snapshot of the state (<see cref="FolderIndexSnapshot"/>), which a load reads instead of the
/// journal's records up to there.
/// </summary>
internal sealed class FolderIndexFile(string folderPath)
{
    public const string FileName = "mailauth-uidlist";
    private const string HeaderV1 = "mailauth-uidlist 1";
    private const string HeaderV2 = "mailauth-uidlist 2";
    private const string HeaderV3 = "mailauth-uidlist 3";

    /// <summary>Records appended beyond this many more than the folder's messages trigger a compaction.</summary>
    private const int CompactionSlack = 4096;

    private readonly string _path = Path.Combine(folderPath, FileName);

    /// <summary>Where the last whole record ends; -1 when the file must be written anew (missing, old version, damaged).</summary>
    private long _validLength = -1;
    private long _records;

    /// <summary>The records the snapshot covers: those after it are replayed on each load, so the journal is compacted before they grow many.</summary>
    private long _snapshotRecords;

    /// <summary>The journal was read without a usable snapshot: the next commit compacts it, which writes one.</summary>
    private bool _snapshotWanted;

    /// <summary>False until the file was read or written as version 3: the next append writes it whole.</summary>
    public bool Written => _validLength >= 0;

    /// <summary>True when the next <see cref="Append"/> should compact the journal even with nothing to append (to write a snapshot).</summary>
    public bool SnapshotWanted => _snapshotWanted;

    /// <summary>
    /// The index for a folder's load: from the snapshot and the journal records appended after it when
    /// they match, else from the journal alone (<see cref="Read"/>); null when there is no index to trust.
    /// </summary>
    public LoadedIndex? Load()
    {
        if (ReadSnapshot() is { } loaded)
        {
            _snapshotWanted = false;
            return loaded;
        }
        var contents = Read();
        _snapshotRecords = 0;
        _snapshotWanted = contents is { Version: 3 };
        return contents is null ? null
            : new LoadedIndex(contents.Version, contents.UidValidity, contents.NextUid, contents.HighestModSeq, MessageList.Of(MessagesOf(contents)),
                contents.Vanished, contents.CurStamp);
    }

    /// <summary>
    /// The snapshot with the journal's newer records replayed on it; null when there is no snapshot, it
    /// is not the state of this journal's first bytes (another compaction since, a journal replaced or
    /// cut), or a newer record is one a snapshot cannot take: the journal is then read whole.
    /// </summary>
    private LoadedIndex? ReadSnapshot()
    {
        if (FolderIndexSnapshot.Read(folderPath) is not { } snapshot)
        {
            return null;
        }
        var expectedHeader = Encoding.ASCII.GetBytes($"{HeaderV3} {snapshot.UidValidity}\n");
        var covered = snapshot.JournalLength;
        byte[] end;
        try
        {
            using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (covered < expectedHeader.Length || file.Length < covered || file.Length - covered > int.MaxValue - FolderIndexSnapshot.TailBytes)
            {
                return null;
            }
            var header = new byte[expectedHeader.Length];
            file.ReadExactly(header);
            if (!header.AsSpan().SequenceEqual(expectedHeader))
            {
                return null;
            }
            var tailStart = Math.Max(0, covered - FolderIndexSnapshot.TailBytes);
            end = new byte[file.Length - tailStart];
            file.Position = tailStart;
            file.ReadExactly(end);
            covered -= tailStart;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (FolderIndexSnapshot.JournalTail(end.AsSpan(0, (int)covered)) != snapshot.JournalTailHash)
        {
            return null;
        }
        var tail = new FolderIndexTail(snapshot);
        var position = (int)covered;
        long records = 0;
        while (position < end.Length)
        {
            var lineEnd = Array.IndexOf(end, (byte)'\n', position);
            if (lineEnd < 0 || !Verified(end.AsSpan(position, lineEnd - position), out var record) || !tail.Apply(record))
            {
                if (tail.Unsupported || (lineEnd >= 0 && HasWholeRecordAfter(end, lineEnd + 1)))
                {
                    return null; // damaged (or a record only the whole read applies): Read decides
                }
                break; // a record torn by a crash: the next append cuts it off
            }
            records++;
            position = lineEnd + 1;
        }
        _validLength = snapshot.JournalLength + (position - (int)covered);
        _records = snapshot.JournalRecords + records;
        _snapshotRecords = snapshot.JournalRecords;
        return tail.Finish();
    }

    /// <summary>
    /// The messages as the journal lists them, in UID order; <c>Size</c> -1 when the list is older than
    /// version 3 (the folder's rescan fills it in). Each distinct info text is parsed once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static MaildirMessage[] MessagesOf(IndexContents contents)
    {
        var messages = new MaildirMessage[contents.Messages.Count];
        var flagsOf = new Dictionary<string, (MessageFlags Flags, string Other)>(StringComparer.Ordinal);
        var (count, ordered) = (0, true);
        foreach (var entry in contents.Messages.Values)
        {
            if (!flagsOf.TryGetValue(entry.Info, out var parsed))
            {
                // The index writes info letters in canonical order (MaildirFlags.ToInfo), so the letters parsed back are too.
                var (_, flags, other) = MaildirFlags.Parse(entry.Info);
                flagsOf[entry.Info] = parsed = (flags, other);
            }
            messages[count] = new MaildirMessage(entry.Uid, entry.BaseName, entry.BaseName + entry.Info, parsed.Flags, parsed.Other,
                entry.Size ?? -1, entry.Date ?? default, entry.ModSeq);
            ordered &= count == 0 || messages[count - 1].Uid < entry.Uid;
            count++;
        }
        if (!ordered)
        {
            Array.Sort(messages, (a, b) => a.Uid.CompareTo(b.Uid));
        }
        return messages;
    }

    /// <summary>The index as on disk, or null when there is none or it cannot be trusted (a new UID epoch then).</summary>
    public IndexContents? Read()
    {
        _validLength = -1;
        _records = 0;
        if (!File.Exists(_path))
        {
            return null;
        }
        var bytes = File.ReadAllBytes(_path);
        var firstLine = Array.IndexOf(bytes, (byte)'\n');
        if (firstLine < 0)
        {
            return null;
        }
        var header = Encoding.UTF8.GetString(bytes, 0, firstLine).Split(' ');
        var prefix = header.Length >= 2 ? $"{header[0]} {header[1]}" : "";
        return prefix switch
        {
            HeaderV3 when header.Length == 3 => ReadJournal(bytes, firstLine + 1, header[2]),
            HeaderV2 or HeaderV1 => ReadList(bytes, firstLine + 1, header, prefix == HeaderV2),
            _ => null,
        };
    }

    /// <summary>
    /// Reads the records straight from the file's bytes (numbers parsed in place, strings made only for
    /// the info and base name): the first SELECT after a restart reads every record. Optimised at
    /// once rather than after tiering, as it runs its 100,000 iterations on first use.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IndexContents? ReadJournal(byte[] bytes, int start, string validityText)
    {
        if (!uint.TryParse(validityText, NumberStyles.None, CultureInfo.InvariantCulture, out var validity) || validity == 0)
        {
            return null;
        }
        var messages = new Dictionary<uint, IndexEntry>();
        var vanished = new List<VanishedRange>();
        uint nextUid = 1;
        ulong highest = 1;
        long curStamp = 0;
        var infos = new InfoStrings();
        var position = start;
        var damaged = false;
        while (position < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', position);
            if (end < 0 || !Verified(bytes.AsSpan(position, end - position), out var record)
                || !Apply(record, infos, messages, vanished, ref nextUid, ref highest, ref curStamp))
            {
                // Only the last record may be torn (a crash while appending); a bad record followed by
                // good ones is damage, and UIDs read past it could be handed out twice: start a new epoch.
                damaged = end >= 0 && HasWholeRecordAfter(bytes, end + 1);
                break;
            }
            _records++;
            position = end + 1;
        }
        if (damaged)
        {
            _validLength = -1;
            return null;
        }
        _validLength = position;
        return new IndexContents(3, validity, nextUid, highest, messages, vanished, curStamp);
    }

    internal static bool HasWholeRecordAfter(byte[] bytes, int position)
    {
        while (position < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', position);
            if (end < 0)
            {
                return false;
            }
            if (Verified(bytes.AsSpan(position, end - position), out _))
            {
                return true;
            }
            position = end + 1;
        }
        return false;
    }

    /// <summary>True, with the record's text, when the line's checksum matches: <c>xxxxxxxx text</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool Verified(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> record)
    {
        record = line.Length >= 10 ? line[9..] : default;
        return line.Length >= 10 && line[8] == ' '
            && uint.TryParse(line[..8], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var sum)
            && Checksum(record) == sum;
    }

    /// <summary>
    /// Applies one record: <c>A uid modseq size ticks :2,info base-name</c>, <c>F uid modseq :2,info</c>,
    /// <c>V first:last modseq</c> or <c>S next-uid modseq cur-stamp</c>; false when it is none of them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Apply(ReadOnlySpan<byte> record, InfoStrings infos, Dictionary<uint, IndexEntry> messages, List<VanishedRange> vanished,
        ref uint nextUid, ref ulong highest, ref long curStamp)
    {
        if (!FolderIndexRecord.TryParse(record, out var parsed))
        {
            return false;
        }
        switch (parsed.Kind)
        {
            case FolderIndexRecord.Added:
                messages[parsed.Uid] = new IndexEntry(parsed.Uid, parsed.ModSeq, infos.Get(parsed.Info), Encoding.UTF8.GetString(parsed.BaseName), parsed.Size, parsed.InternalDate);
                nextUid = Math.Max(nextUid, parsed.Uid + 1);
                break;
            case FolderIndexRecord.FlagsChanged:
                if (messages.TryGetValue(parsed.Uid, out var entry))
                {
                    messages[parsed.Uid] = entry with { ModSeq = parsed.ModSeq, Info = infos.Get(parsed.Info) };
                }
                break;
            case FolderIndexRecord.Vanished:
                RemoveRange(messages, parsed.Range!.First, parsed.Range.Last);
                vanished.Add(parsed.Range);
                nextUid = Math.Max(nextUid, parsed.Range.Last + 1);
                break;
            default:
                (nextUid, curStamp) = (Math.Max(nextUid, parsed.NextUid), parsed.CurStamp);
                break;
        }
        highest = Math.Max(highest, parsed.ModSeq);
        return true;
    }

    /// <summary>The text up to the next space (which <paramref name="rest"/> then starts after); false when there is no space.</summary>
    internal static bool Field(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        var space = rest.IndexOf((byte)' ');
        field = space < 0 ? default : rest[..space];
        rest = space < 0 ? rest : rest[(space + 1)..];
        return space >= 0;
    }

    private static void RemoveRange(Dictionary<uint, IndexEntry> messages, uint first, uint last)
    {
        if ((ulong)last - first < (ulong)messages.Count)
        {
            for (var uid = first; uid <= last && uid != 0; uid++)
            {
                messages.Remove(uid);
            }
            return;
        }
        foreach (var uid in messages.Keys.Where(u => u >= first && u <= last).ToList())
        {
            messages.Remove(uid);
        }
    }

    /// <summary>A version 1 or 2 list: <c>uid base-name</c>, or <c>uid modseq :2,info base-name</c> and <c>V first:last modseq</c>.</summary>
    private static IndexContents? ReadList(byte[] bytes, int start, string[] header, bool version2)
    {
        ulong highest = 1;
        if (header.Length != (version2 ? 5 : 4)
            || !uint.TryParse(header[2], NumberStyles.None, CultureInfo.InvariantCulture, out var validity)
            || !uint.TryParse(header[3], NumberStyles.None, CultureInfo.InvariantCulture, out var nextUid)
            || (version2 && !ulong.TryParse(header[4], NumberStyles.None, CultureInfo.InvariantCulture, out highest))
            || validity == 0)
        {
            return null;
        }
        highest = Math.Max(highest, 1);
        var messages = new Dictionary<uint, IndexEntry>();
        var vanished = new List<VanishedRange>();
        var byBase = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(bytes, start, bytes.Length - start).Split('\n'))
        {
            if ((version2 ? ParseEntryV2(line) : ParseEntryV1(line, highest)) is { } entry)
            {
                if (entry.Uid < nextUid && entry.ModSeq <= highest)
                {
                    // The last line for a base name wins, as in earlier versions.
                    if (byBase.Remove(entry.BaseName, out var earlier))
                    {
                        messages.Remove(earlier);
                    }
                    byBase[entry.BaseName] = entry.Uid;
                    messages[entry.Uid] = entry;
                }
            }
            else if (version2 && ParseVanished(line) is { } range && range.Last < nextUid && range.ModSeq <= highest)
            {
                vanished.Add(range);
            }
        }
        return new IndexContents(version2 ? 2 : 1, validity, nextUid, highest, messages, vanished, CurStamp: 0);
    }

    /// <summary>v2 message line: <c>uid modseq :2,info base-name</c>.</summary>
    private static IndexEntry? ParseEntryV2(string line)
    {
        var parts = line.Split(' ', 4);
        return parts is [var uid, var modSeq, var info, var baseName]
            && uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var u)
            && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
            && info.StartsWith(":2,", StringComparison.Ordinal)
            ? new IndexEntry(u, m, info, baseName, null, null)
            : null;
    }

    /// <summary>v1 message line: <c>uid base-name</c>, no flags (an empty info: taken from the file), no mod-sequence.</summary>
    private static IndexEntry? ParseEntryV1(string line, ulong modSeq)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && uint.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            ? new IndexEntry(uid, modSeq, "", line[(space + 1)..], null, null)
            : null;
    }

    /// <summary>Expunge line: <c>V first:last modseq</c>.</summary>
    internal static VanishedRange? ParseVanished(string line)
    {
        var parts = line.Split(' ');
        if (parts is not ["V", var range, var modSeq] || range.Split(':') is not [var first, var last])
        {
            return null;
        }
        return uint.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var f)
            && uint.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var l)
            && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && f <= l && f > 0
            ? new VanishedRange(f, l, m)
            : null;
    }

    public static string Added(MaildirMessage message) => string.Create(CultureInfo.InvariantCulture,
        $"A {message.Uid} {message.ModSeq} {message.Size} {message.InternalDate.UtcTicks} {MaildirFlags.ToInfo(message.Flags, message.OtherLetters)} {message.BaseName}");

    public static string FlagsChanged(MaildirMessage message) => string.Create(CultureInfo.InvariantCulture,
        $"F {message.Uid} {message.ModSeq} {MaildirFlags.ToInfo(message.Flags, message.OtherLetters)}");

    public static string Expunged(VanishedRange range) => string.Create(CultureInfo.InvariantCulture, $"V {range.First}:{range.Last} {range.ModSeq}");

    private static string State(uint nextUid, ulong highestModSeq, long curStamp) =>
        string.Create(CultureInfo.InvariantCulture, $"S {nextUid} {highestModSeq} {curStamp}");

    /// <summary>
    /// Appends <paramref name="records"/> and the state record in one write, flushed to disk; the
    /// file is compacted instead when it has none yet (or an old version) or has grown well past
    /// the folder's state (<paramref name="messages"/> and <paramref name="vanished"/>).
    /// </summary>
    public void Append(IReadOnlyList<string> records, uint uidValidity, uint nextUid, ulong highestModSeq, long curStamp,
        MessageList messages, IReadOnlyList<VanishedRange> vanished)
    {
        // Past the snapshot, every record is replayed by the next load: a few thousand (or an eighth of
        // the folder) cost a few milliseconds there, and the compaction that ends them some tens.
        var sinceSnapshot = _records - _snapshotRecords + records.Count;
        if (_validLength < 0 || _snapshotWanted || _records + records.Count > 2L * (messages.Count + vanished.Count) + CompactionSlack
            || sinceSnapshot > Math.Max(CompactionSlack, messages.Count / 8) || !File.Exists(_path))
        {
            Compact(uidValidity, nextUid, highestModSeq, curStamp, messages, vanished);
            return;
        }
        var text = new StringBuilder();
        foreach (var record in records)
        {
            AppendLine(text, record);
        }
        AppendLine(text, State(nextUid, highestModSeq, curStamp));
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        using (var file = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.Read))
        {
            // Cuts off a torn record left by a crash, so that the new records follow the last whole one.
            file.SetLength(_validLength);
            file.Position = _validLength;
            file.Write(bytes);
            DurableFile.FlushToDisk(file);
        }
        _validLength += bytes.Length;
        _records += records.Count + 1;
    }

    /// <summary>Writes the whole state as a new file (flushed, then renamed over the old one).</summary>
    public void Compact(uint uidValidity, uint nextUid, ulong highestModSeq, long curStamp, MessageList messages, IReadOnlyList<VanishedRange> vanished)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{HeaderV3} {uidValidity}\n");
        // Expunged ranges first: merged ones may span live UIDs (MaildirFolder.RecordVanished), and a
        // range removes only the messages listed before it.
        foreach (var range in vanished)
        {
            AppendLine(text, Expunged(range));
        }
        for (var i = 0; i < messages.Count; i++)
        {
            AppendLine(text, Added(messages.Peek(i)));
        }
        AppendLine(text, State(nextUid, highestModSeq, curStamp));
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        var temporary = _path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            DurableFile.FlushToDisk(file);
        }
        File.Move(temporary, _path, overwrite: true);
        MaildirDelivery.SyncDirectory(folderPath);
        _validLength = bytes.Length;
        _records = messages.Count + vanished.Count + 1;
        // After the journal is durably in place: a snapshot is never newer than the journal it names.
        FolderIndexSnapshot.Write(folderPath, bytes, _records, uidValidity, nextUid, highestModSeq, curStamp, messages, vanished);
        _snapshotRecords = _records;
        _snapshotWanted = false;
    }

    private static void AppendLine(StringBuilder text, string record) =>
        text.Append(CultureInfo.InvariantCulture, $"{Checksum(Encoding.UTF8.GetBytes(record)):x8} {record}\n");

    /// <summary>FNV-1a (32 bits): enough to tell a whole record from a torn or overwritten one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint Checksum(ReadOnlySpan<byte> bytes)
    {
        var hash = 2166136261u;
        foreach (var b in bytes)
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }
        return hash;
    }

    /// <summary>
    /// The info texts of one read, each made once: a folder has a handful of distinct ones (<c>:2,</c>,
    /// <c>:2,S</c>, <c>:2,RS</c>…) and 100,000 records.
    /// </summary>
    private sealed class InfoStrings
    {
        private readonly Dictionary<string, string> _known = new(StringComparer.Ordinal);

        public string Get(ReadOnlySpan<byte> info)
        {
            // Info letters are ASCII; anything longer or stranger is simply made anew.
            Span<char> chars = stackalloc char[64];
            if (info.Length > chars.Length || Ascii.ToUtf16(info, chars, out var written) != OperationStatus.Done)
            {
                return Encoding.UTF8.GetString(info);
            }
            var lookup = _known.GetAlternateLookup<ReadOnlySpan<char>>();
            if (lookup.TryGetValue(chars[..written], out var known))
            {
                return known;
            }
            var text = new string(chars[..written]);
            _known[text] = text;
            return text;
        }
    }
}
