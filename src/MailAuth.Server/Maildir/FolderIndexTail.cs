using System.Globalization;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>
/// Replays the journal records appended after a snapshot (<see cref="FolderIndexSnapshot"/>) onto its
/// arrays, with the same meaning <see cref="FolderIndexFile"/> gives them when it reads the whole
/// journal: a flag change updates the message's mod-sequence and info in place, an expunge marks its
/// messages removed, a new message is kept as a <see cref="MaildirMessage"/> after the snapshot's.
/// A record the snapshot cannot take (a message added below the highest UID, which no writer
/// appends) sets <see cref="Unsupported"/>: the journal is then read whole.
/// </summary>
internal sealed class FolderIndexTail(SnapshotData snapshot)
{
    private readonly List<MaildirMessage> _added = [];
    private Dictionary<string, ushort>? _infoIds;
    private bool[]? _removed;
    private uint _nextUid = snapshot.NextUid;
    private ulong _highest = snapshot.HighestModSeq;
    private long _curStamp = snapshot.CurStamp;

    public bool Unsupported { get; private set; }

    /// <summary>Applies one verified record; false when it is none of the kinds the journal writes (or <see cref="Unsupported"/>).</summary>
    public bool Apply(ReadOnlySpan<byte> record)
    {
        var rest = record;
        if (!FolderIndexFile.Field(ref rest, out _))
        {
            return false;
        }
        switch (record[0])
        {
            case (byte)'A' when FolderIndexFile.Field(ref rest, out var uid) && FolderIndexFile.Field(ref rest, out var modSeq)
                && FolderIndexFile.Field(ref rest, out var size) && FolderIndexFile.Field(ref rest, out var ticks) && FolderIndexFile.Field(ref rest, out var info)
                && uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var u)
                && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                && long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
                && long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var t)
                && t <= DateTimeOffset.MaxValue.UtcTicks
                && info.StartsWith(":2,"u8) && u > 0:
                if (u <= LastUid)
                {
                    Unsupported = true;
                    return false;
                }
                var baseName = Encoding.UTF8.GetString(rest);
                var infoText = Encoding.UTF8.GetString(info);
                var (_, flags, other) = MaildirFlags.Parse(infoText);
                _added.Add(new MaildirMessage(u, baseName, baseName + infoText, flags, other, s, new DateTimeOffset(t, TimeSpan.Zero), m));
                (_nextUid, _highest) = (Math.Max(_nextUid, u + 1), Math.Max(_highest, m));
                return true;
            case (byte)'F' when FolderIndexFile.Field(ref rest, out var uid) && FolderIndexFile.Field(ref rest, out var modSeq) && rest.IndexOf((byte)' ') < 0
                && uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var u)
                && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                && rest.StartsWith(":2,"u8):
                return FlagsChanged(u, m, Encoding.UTF8.GetString(rest));
            case (byte)'V' when FolderIndexFile.ParseVanished(Encoding.UTF8.GetString(record)) is { } range:
                Remove(range.First, range.Last);
                snapshot.Vanished.Add(range);
                (_nextUid, _highest) = (Math.Max(_nextUid, range.Last + 1), Math.Max(_highest, range.ModSeq));
                return true;
            case (byte)'S' when FolderIndexFile.Field(ref rest, out var next) && FolderIndexFile.Field(ref rest, out var modSeq) && rest.IndexOf((byte)' ') < 0
                && uint.TryParse(next, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                && long.TryParse(rest, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var c):
                (_nextUid, _highest, _curStamp) = (Math.Max(_nextUid, n), Math.Max(_highest, m), c);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The highest UID listed, removed or not: a new message must come after it.</summary>
    private uint LastUid => _added.Count > 0 ? _added[^1].Uid : snapshot.Flat.Count > 0 ? snapshot.Flat.UidAt(snapshot.Flat.Count - 1) : 0;

    private bool FlagsChanged(uint uid, ulong modSeq, string info)
    {
        _highest = Math.Max(_highest, modSeq);
        var position = snapshot.Flat.Uids.BinarySearch(uid);
        if (position >= 0 && _removed?[position] != true)
        {
            if (!_infoIds?.ContainsKey(info) ?? true)
            {
                _infoIds ??= snapshot.InfoTexts.Select((text, id) => (text, id)).ToDictionary(p => p.text, p => (ushort)p.id, StringComparer.Ordinal);
                if (!_infoIds.ContainsKey(info))
                {
                    if (snapshot.InfoTexts.Count == ushort.MaxValue)
                    {
                        Unsupported = true;
                        return false;
                    }
                    _infoIds[info] = (ushort)snapshot.InfoTexts.Count;
                    snapshot.InfoTexts.Add(info);
                }
            }
            (snapshot.Flat.ModSeqs[position], snapshot.Flat.Infos[position]) = (modSeq, _infoIds![info]);
            return true;
        }
        var added = _added.FindIndex(message => message.Uid == uid);
        if (added >= 0)
        {
            var message = _added[added];
            var (_, flags, other) = MaildirFlags.Parse(info);
            _added[added] = message with { ModSeq = modSeq, FileName = message.BaseName + info, Flags = flags, OtherLetters = other };
        }
        return true;
    }

    private void Remove(uint first, uint last)
    {
        var uids = snapshot.Flat.Uids;
        var position = uids.BinarySearch(first);
        for (position = position < 0 ? ~position : position; position < uids.Length && uids[position] <= last; position++)
        {
            _removed ??= new bool[uids.Length];
            _removed[position] = true;
        }
        _added.RemoveAll(message => message.Uid >= first && message.Uid <= last);
    }

    /// <summary>The folder's state: the snapshot's messages still listed, then those added since.</summary>
    public LoadedIndex Finish()
    {
        var flat = snapshot.Flat.WithInfoTexts([.. snapshot.InfoTexts]);
        if (_removed is { } removed)
        {
            flat = flat.Only([.. Enumerable.Range(0, removed.Length).Where(i => !removed[i])]);
        }
        var items = new MaildirMessage?[flat.Count + _added.Count];
        for (var i = 0; i < _added.Count; i++)
        {
            items[flat.Count + i] = _added[i];
        }
        return new LoadedIndex(3, snapshot.UidValidity, _nextUid, _highest, new MessageList(items, flat), snapshot.Vanished, _curStamp);
    }
}
