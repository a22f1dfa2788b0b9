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
        if (!FolderIndexRecord.TryParse(record, out var parsed))
        {
            return false;
        }
        switch (parsed.Kind)
        {
            case FolderIndexRecord.Added:
                if (parsed.Uid <= LastUid)
                {
                    Unsupported = true;
                    return false;
                }
                var baseName = Encoding.UTF8.GetString(parsed.BaseName);
                var infoText = Encoding.UTF8.GetString(parsed.Info);
                var (_, flags, other) = MaildirFlags.Parse(infoText);
                _added.Add(new MaildirMessage(parsed.Uid, baseName, baseName + infoText, flags, other, parsed.Size, parsed.InternalDate, parsed.ModSeq));
                (_nextUid, _highest) = (Math.Max(_nextUid, parsed.Uid + 1), Math.Max(_highest, parsed.ModSeq));
                return true;
            case FolderIndexRecord.FlagsChanged:
                return FlagsChanged(parsed.Uid, parsed.ModSeq, Encoding.UTF8.GetString(parsed.Info));
            case FolderIndexRecord.Vanished:
                Remove(parsed.Range!.First, parsed.Range.Last);
                snapshot.Vanished.Add(parsed.Range);
                (_nextUid, _highest) = (Math.Max(_nextUid, parsed.Range.Last + 1), Math.Max(_highest, parsed.ModSeq));
                return true;
            default:
                (_nextUid, _highest, _curStamp) = (Math.Max(_nextUid, parsed.NextUid), Math.Max(_highest, parsed.ModSeq), parsed.CurStamp);
                return true;
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
