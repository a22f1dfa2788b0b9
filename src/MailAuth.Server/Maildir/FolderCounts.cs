namespace MailAuth.Server.Maildir;

/// <summary>
/// A folder's unseen count, first unseen message and total size, kept current as the folder index
/// applies each change (add, flag change, expunge), so that STATUS UNSEEN, SELECT's [UNSEEN n] and
/// the quota's usage (RFC 9208 STORAGE) do not look at every message. Used under the folder's lock only.
/// </summary>
internal sealed class FolderCounts
{
    /// <summary>Every message before this position is \Seen; the first unseen one is at or after it.</summary>
    private int _seenPrefix;

    public int Unseen { get; private set; }

    /// <summary>The sizes of the messages added up (a size not yet known, -1 in an index older than version 3, counts 0).</summary>
    public long Bytes { get; private set; }

    public static bool IsUnseen(MaildirMessage message) => (message.Flags & MessageFlags.Seen) == 0;

    /// <summary>Counts anew (after a load or a rescan, which read every message anyway).</summary>
    public void Recount(IReadOnlyList<MaildirMessage> messages)
    {
        var unseen = 0;
        long bytes = 0;
        if (messages is MessageList list)
        {
            // Straight from the index snapshot's arrays where the message was not made yet.
            for (var i = 0; i < list.Count; i++)
            {
                unseen += list.IsUnseenAt(i) ? 1 : 0;
                bytes += Math.Max(0, list.SizeAt(i));
            }
        }
        else
        {
            foreach (var message in messages)
            {
                unseen += IsUnseen(message) ? 1 : 0;
                bytes += SizeOf(message);
            }
        }
        (Unseen, _seenPrefix, Bytes) = (unseen, 0, bytes);
    }

    /// <summary>Messages appended after the existing ones (higher UIDs).</summary>
    public void Appended(IEnumerable<MaildirMessage> added)
    {
        foreach (var message in added)
        {
            Unseen += IsUnseen(message) ? 1 : 0;
            Bytes += SizeOf(message);
        }
    }

    /// <summary>The message at <paramref name="position"/> changed its flags from <paramref name="before"/>'s.</summary>
    public void FlagsChanged(int position, MaildirMessage before, MaildirMessage after)
    {
        var (was, now) = (IsUnseen(before), IsUnseen(after));
        if (was == now)
        {
            return;
        }
        Unseen += now ? 1 : -1;
        if (now)
        {
            _seenPrefix = Math.Min(_seenPrefix, position);
        }
    }

    /// <summary>The message at <paramref name="position"/> (its position before the expunge) is removed.</summary>
    public void Removed(int position, MaildirMessage message)
    {
        Unseen -= IsUnseen(message) ? 1 : 0;
        Bytes -= SizeOf(message);
        // The messages before the first removed one keep their positions; those after it move down.
        _seenPrefix = Math.Min(_seenPrefix, position);
    }

    private static long SizeOf(MaildirMessage message) => Math.Max(0, message.Size);

    /// <summary>The position of the first unseen message of <paramref name="messages"/> (the folder's current list), or -1.</summary>
    public int FirstUnseen(IReadOnlyList<MaildirMessage> messages)
    {
        if (Unseen == 0)
        {
            return -1;
        }
        while (_seenPrefix < messages.Count && !(messages is MessageList list ? list.IsUnseenAt(_seenPrefix) : IsUnseen(messages[_seenPrefix])))
        {
            _seenPrefix++;
        }
        return _seenPrefix < messages.Count ? _seenPrefix : -1;
    }
}
