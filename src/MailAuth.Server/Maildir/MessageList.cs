using System.Buffers.Binary;
using System.Collections;
using System.Runtime.InteropServices;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>
/// A folder's messages in flat arrays, as the index snapshot (<see cref="FolderIndexSnapshot"/>) holds
/// them, read in place from the snapshot file's bytes: one array per field (mod-sequences, sizes,
/// dates, UIDs, name bounds, info numbers), the base names as ranges of UTF-8, the info texts
/// (<c>:2,S</c>…) as numbers into a small table. Loading 100,000 messages this way is one buffer instead
/// of a few objects per message; a <see cref="MaildirMessage"/> is made only for a message that is
/// looked at (<see cref="MessageList"/>). Never changed once a <see cref="MessageList"/> uses it.
/// </summary>
internal sealed class FlatMessages
{
    private readonly byte[] _data;
    private readonly int _modSeqs;
    private readonly int _sizes;
    private readonly int _ticks;
    private readonly int _uids;
    private readonly int _bounds;
    private readonly int _infos;
    private readonly int _names;
    private readonly string[] _infoTexts;
    private readonly (MessageFlags Flags, string Other)[] _parsedInfos;

    /// <param name="data">The buffer: the arrays from <paramref name="start"/> (<see cref="ArraysLength"/>), the names from <paramref name="names"/>.</param>
    public FlatMessages(byte[] data, int start, int count, int names, string[] infoTexts)
    {
        (_data, Count, _names, _infoTexts) = (data, count, names, infoTexts);
        _modSeqs = start;
        _sizes = _modSeqs + (8 * count);
        _ticks = _sizes + (8 * count);
        _uids = _ticks + (8 * count);
        _bounds = _uids + (4 * count);
        _infos = _bounds + (4 * (count + 1));
        _parsedInfos = [.. infoTexts.Select(ParseInfo)];
    }

    /// <summary>The bytes the arrays of <paramref name="count"/> messages take: 8-byte fields first, so each stays aligned.</summary>
    public static int ArraysLength(int count) => (34 * count) + 4;

    public int Count { get; }

    public Span<ulong> ModSeqs => MemoryMarshal.Cast<byte, ulong>(_data.AsSpan(_modSeqs, 8 * Count));

    public Span<long> Sizes => MemoryMarshal.Cast<byte, long>(_data.AsSpan(_sizes, 8 * Count));

    public Span<long> Ticks => MemoryMarshal.Cast<byte, long>(_data.AsSpan(_ticks, 8 * Count));

    public Span<uint> Uids => MemoryMarshal.Cast<byte, uint>(_data.AsSpan(_uids, 4 * Count));

    /// <summary>Where each base name starts in the names (and the last one ends): <c>Count + 1</c> offsets.</summary>
    public Span<int> NameBounds => MemoryMarshal.Cast<byte, int>(_data.AsSpan(_bounds, 4 * (Count + 1)));

    public Span<ushort> Infos => MemoryMarshal.Cast<byte, ushort>(_data.AsSpan(_infos, 2 * Count));

    public IReadOnlyList<string> InfoTexts => _infoTexts;

    public uint UidAt(int position) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(_uids + (4 * position)));

    public ulong ModSeqAt(int position) => BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan(_modSeqs + (8 * position)));

    public long SizeAt(int position) => BinaryPrimitives.ReadInt64LittleEndian(_data.AsSpan(_sizes + (8 * position)));

    private ushort InfoAt(int position) => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(_infos + (2 * position)));

    public bool IsUnseen(int position) => (_parsedInfos[InfoAt(position)].Flags & MessageFlags.Seen) == 0;

    /// <summary>The base name's UTF-8 bytes.</summary>
    public ReadOnlySpan<byte> BaseName(int position)
    {
        var start = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(_bounds + (4 * position)));
        var end = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(_bounds + (4 * (position + 1))));
        return _data.AsSpan(_names + start, end - start);
    }

    public MaildirMessage Create(int position)
    {
        var baseName = Encoding.UTF8.GetString(BaseName(position));
        var info = InfoAt(position);
        var (flags, other) = _parsedInfos[info];
        return new MaildirMessage(UidAt(position), baseName, baseName + _infoTexts[info], flags, other, SizeAt(position),
            new DateTimeOffset(BinaryPrimitives.ReadInt64LittleEndian(_data.AsSpan(_ticks + (8 * position))), TimeSpan.Zero), ModSeqAt(position));
    }

    /// <summary>The same messages with another info table (the journal's tail may name info texts the snapshot has not).</summary>
    public FlatMessages WithInfoTexts(string[] infoTexts) => new(_data, _modSeqs, Count, _names, infoTexts);

    /// <summary>The messages at <paramref name="kept"/> (ascending positions) in a buffer of their own.</summary>
    public FlatMessages Only(IReadOnlyList<int> kept)
    {
        var nameBytes = 0;
        foreach (var position in kept)
        {
            nameBytes += BaseName(position).Length;
        }
        var count = kept.Count;
        var data = new byte[ArraysLength(count) + nameBytes];
        var result = new FlatMessages(data, 0, count, ArraysLength(count), _infoTexts);
        var written = 0;
        for (var i = 0; i < count; i++)
        {
            var position = kept[i];
            result.ModSeqs[i] = ModSeqs[position];
            result.Sizes[i] = Sizes[position];
            result.Ticks[i] = Ticks[position];
            result.Uids[i] = Uids[position];
            result.Infos[i] = Infos[position];
            var name = BaseName(position);
            name.CopyTo(data.AsSpan(result._names + written));
            result.NameBounds[i] = written;
            written += name.Length;
        }
        result.NameBounds[count] = written;
        return result;
    }

    /// <summary>The index writes info letters in canonical order (<see cref="MaildirFlags.ToInfo"/>), so the letters parsed back are too.</summary>
    private static (MessageFlags, string) ParseInfo(string info)
    {
        var (_, flags, other) = MaildirFlags.Parse(info);
        return (flags, other);
    }
}

/// <summary>
/// The message list of a folder snapshot, in UID order, immutable for its readers. Positions below
/// the flat part's count are made from <see cref="FlatMessages"/> on first use (and kept); a change
/// (a STORE, messages added) makes a new list that shares the flat part and the messages already made.
/// UIDs, mod-sequences, sizes and \Seen are read from the flat arrays without making the message, so
/// that SELECT, counting and sessions' change reports do not make 100,000 objects after a restart.
/// </summary>
internal sealed class MessageList : IReadOnlyList<MaildirMessage>
{
    public static readonly MessageList Empty = new([], null);

    /// <summary>A message made (or changed) so far; null where it is still only in <see cref="_flat"/>.</summary>
    private readonly MaildirMessage?[] _items;
    private readonly FlatMessages? _flat;
    private readonly int _flatCount;

    public MessageList(MaildirMessage?[] items, FlatMessages? flat)
    {
        _items = items;
        _flat = flat;
        _flatCount = flat?.Count ?? 0;
    }

    public static MessageList Of(MaildirMessage[] messages) => new(messages, null);

    public int Count => _items.Length;

    /// <summary>
    /// Sessions read concurrently: two may make the same message at once, each a correct value, and
    /// the reference written last stays (a reference write is atomic and publishes the whole object).
    /// </summary>
    public MaildirMessage this[int index] => _items[index] ?? (_items[index] = _flat!.Create(index));

    public uint UidAt(int index) => index < _flatCount ? _flat!.UidAt(index) : _items[index]!.Uid;

    public ulong ModSeqAt(int index) => _items[index]?.ModSeq ?? _flat!.ModSeqAt(index);

    public long SizeAt(int index) => _items[index]?.Size ?? _flat!.SizeAt(index);

    public bool IsUnseenAt(int index) => _items[index] is { } message ? (message.Flags & MessageFlags.Seen) == 0 : _flat!.IsUnseen(index);

    /// <summary>The message without keeping it when it was not made yet (a compaction reads every message once).</summary>
    public MaildirMessage Peek(int index) => _items[index] ?? _flat!.Create(index);

    public MessageList Append(IReadOnlyCollection<MaildirMessage> added) => added.Count == 0 ? this : new([.. _items, .. added], _flat);

    /// <summary>A new list with the messages at the given positions replaced (their UIDs unchanged).</summary>
    public MessageList Replace(IReadOnlyList<(int Position, MaildirMessage Message)> changes)
    {
        var items = (MaildirMessage?[])_items.Clone();
        foreach (var (position, message) in changes)
        {
            items[position] = message;
        }
        return new(items, _flat);
    }

    public IEnumerator<MaildirMessage> GetEnumerator()
    {
        for (var i = 0; i < _items.Length; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The UID at <paramref name="index"/> of any message list, without making the message where it can.</summary>
    public static uint UidAt(IReadOnlyList<MaildirMessage> messages, int index) =>
        messages is MessageList list ? list.UidAt(index) : messages[index].Uid;

    public static ulong ModSeqAt(IReadOnlyList<MaildirMessage> messages, int index) =>
        messages is MessageList list ? list.ModSeqAt(index) : messages[index].ModSeq;
}
