using System.Globalization;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>
/// One verified record of the <c>mailauth-uidlist</c> journal, parsed: <c>A uid modseq size ticks :2,info base-name</c>
/// (a message added), <c>F uid modseq :2,info</c> (its flags changed), <c>V first:last modseq</c> (messages expunged)
/// or <c>S next-uid modseq cur-stamp</c> (the folder's state). The whole-journal load (<see cref="FolderIndexFile"/>)
/// and the replay after a snapshot (<see cref="FolderIndexTail"/>) read records through this one parser.
/// </summary>
internal readonly ref struct FolderIndexRecord
{
    public const byte Added = (byte)'A';
    public const byte FlagsChanged = (byte)'F';
    public const byte Vanished = (byte)'V';
    public const byte State = (byte)'S';

    public byte Kind { get; private init; }

    /// <summary>The message's UID (<see cref="Added"/>, <see cref="FlagsChanged"/>).</summary>
    public uint Uid { get; private init; }

    public ulong ModSeq { get; private init; }

    public long Size { get; private init; }

    public DateTimeOffset InternalDate { get; private init; }

    /// <summary>The <c>:2,</c> info part (<see cref="Added"/>, <see cref="FlagsChanged"/>).</summary>
    public ReadOnlySpan<byte> Info { get; private init; }

    public ReadOnlySpan<byte> BaseName { get; private init; }

    public VanishedRange? Range { get; private init; }

    public uint NextUid { get; private init; }

    /// <summary>cur/'s timestamp when the state was written (<see cref="State"/>).</summary>
    public long CurStamp { get; private init; }

    /// <summary>False when the record is none of the four kinds or a field does not parse.</summary>
    public static bool TryParse(ReadOnlySpan<byte> record, out FolderIndexRecord parsed)
    {
        parsed = default;
        var rest = record;
        if (!FolderIndexFile.Field(ref rest, out _))
        {
            return false;
        }
        switch (record[0])
        {
            case Added when FolderIndexFile.Field(ref rest, out var uid) && FolderIndexFile.Field(ref rest, out var modSeq)
                && FolderIndexFile.Field(ref rest, out var size) && FolderIndexFile.Field(ref rest, out var ticks) && FolderIndexFile.Field(ref rest, out var info)
                && uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var u)
                && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                && long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
                && long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var t)
                && t <= DateTimeOffset.MaxValue.UtcTicks
                && info.StartsWith(":2,"u8) && u > 0:
                // Sliced from record, not from the locals, so that the spans may leave this method.
                var baseNameAt = record.Length - rest.Length;
                parsed = new FolderIndexRecord
                {
                    Kind = Added,
                    Uid = u,
                    ModSeq = m,
                    Size = s,
                    InternalDate = new DateTimeOffset(t, TimeSpan.Zero),
                    Info = record.Slice(baseNameAt - 1 - info.Length, info.Length),
                    BaseName = record[baseNameAt..],
                };
                return true;
            case FlagsChanged when FolderIndexFile.Field(ref rest, out var uid) && FolderIndexFile.Field(ref rest, out var modSeq) && rest.IndexOf((byte)' ') < 0
                && uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var u)
                && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                && rest.StartsWith(":2,"u8):
                parsed = new FolderIndexRecord { Kind = FlagsChanged, Uid = u, ModSeq = m, Info = record[(record.Length - rest.Length)..] };
                return true;
            case Vanished when FolderIndexFile.ParseVanished(Encoding.UTF8.GetString(record)) is { } range:
                parsed = new FolderIndexRecord { Kind = Vanished, ModSeq = range.ModSeq, Range = range };
                return true;
            case State when FolderIndexFile.Field(ref rest, out var next) && FolderIndexFile.Field(ref rest, out var modSeq) && rest.IndexOf((byte)' ') < 0
                && uint.TryParse(next, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && ulong.TryParse(modSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                && long.TryParse(rest, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var c):
                parsed = new FolderIndexRecord { Kind = State, NextUid = n, ModSeq = m, CurStamp = c };
                return true;
            default:
                return false;
        }
    }
}
