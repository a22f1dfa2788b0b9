using System.Text;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2) with the CONDSTORE and QRESYNC parameters (RFC 7162 §3.1.8, §3.2.5).</summary>
internal sealed class SelectCommand(bool readOnly) : IImapCommand
{
    /// <summary>seq-match-data is only a hint; longer sets than this are not expanded.</summary>
    private const int MaxSequenceMatch = 100_000;

    public string Name => readOnly ? "EXAMINE" : "SELECT";

    public bool SendsUpdatesAfter => false;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        var resync = ReadParameters(session, arguments);
        arguments.ExpectEnd();
        if (session.Selected is not null)
        {
            // RFC 7162 §3.2.11: the boundary between the old folder's responses and the new one's.
            session.Write("* OK [CLOSED] Previous folder closed\r\n");
        }
        // A SELECT, even a failing one, ends the previous selection (§6.3.1).
        session.Deselect();
        var folder = session.RequireStore().Open(name);
        if (folder is null)
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "NONEXISTENT");
            return Task.CompletedTask;
        }
        var selected = new SelectedFolder(name, folder, readOnly);
        var snapshot = selected.Snapshot;
        var output = new StringBuilder();
        output.Append(selected.FlagsResponses());
        output.Append($"* {selected.Count} EXISTS\r\n* {selected.RecentCount} RECENT\r\n");
        if (snapshot.FirstUnseen >= 0)
        {
            // The session's view is the snapshot at SELECT: its positions are the sequence numbers.
            output.Append($"* OK [UNSEEN {snapshot.FirstUnseen + 1}] First unseen message\r\n");
        }
        output.Append($"* OK [UIDVALIDITY {snapshot.UidValidity}] UIDs valid\r\n");
        output.Append($"* OK [UIDNEXT {snapshot.UidNext}] Predicted next UID\r\n");
        // Mod-sequences are kept for every message, so every SELECT has it and NOMODSEQ is never sent (RFC 7162 §3.1.2.1).
        output.Append($"* OK [HIGHESTMODSEQ {snapshot.HighestModSeq}] Highest mod-sequence\r\n");
        if (resync is not null && resync.UidValidity == snapshot.UidValidity)
        {
            Resynchronize(session, selected, resync, output);
        }
        session.Write(output.ToString());
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed", readOnly ? "READ-ONLY" : "READ-WRITE");
        session.Select(selected);
        return Task.CompletedTask;
    }

    /// <summary>The optional <c>(CONDSTORE)</c> or <c>(QRESYNC (…))</c>; CONDSTORE is enabled by either.</summary>
    private static QresyncParameters? ReadParameters(ImapSession session, ImapReader arguments)
    {
        if (!arguments.TryConsume(' '))
        {
            return null;
        }
        arguments.Expect('(');
        QresyncParameters? resync = null;
        do
        {
            var parameter = arguments.ReadAtom().ToUpperInvariant();
            if (parameter == "CONDSTORE")
            {
                session.EnableCondstore(announce: false);
            }
            else if (parameter == "QRESYNC")
            {
                if (!session.QresyncEnabled)
                {
                    throw new ImapSyntaxException("QRESYNC must be enabled first (ENABLE QRESYNC)"); // RFC 7162 §3.2.5
                }
                arguments.ExpectSpace();
                resync = ReadQresync(arguments);
            }
            else
            {
                throw new ImapSyntaxException($"unknown SELECT parameter '{ImapSession.Sanitize(parameter)}'");
            }
        }
        while (arguments.TryConsume(' '));
        arguments.Expect(')');
        return resync;
    }

    /// <summary><c>(uidvalidity modseq [known-uids] [(known-sequence-set known-uid-set)])</c>.</summary>
    private static QresyncParameters ReadQresync(ImapReader arguments)
    {
        arguments.Expect('(');
        var validity = (uint)arguments.ReadNumber();
        arguments.ExpectSpace();
        var modSeq = arguments.ReadModSeq(allowZero: false);
        SequenceSet? knownUids = null;
        (SequenceSet Sequences, SequenceSet Uids)? match = null;
        if (arguments.TryConsume(' '))
        {
            if (!arguments.PeekIs('('))
            {
                knownUids = arguments.ReadSequenceSet();
            }
            if (knownUids is null || arguments.TryConsume(' '))
            {
                arguments.Expect('(');
                var sequences = arguments.ReadSequenceSet();
                arguments.ExpectSpace();
                match = (sequences, arguments.ReadSequenceSet());
                arguments.Expect(')');
            }
        }
        arguments.Expect(')');
        return new QresyncParameters(validity, modSeq, knownUids, match);
    }

    /// <summary>
    /// RFC 7162 §3.2.5: the UIDs expunged since the client's mod-sequence as <c>VANISHED (EARLIER)</c>,
    /// then a FETCH for every message changed since, both within the client's known UIDs.
    /// </summary>
    private static void Resynchronize(ImapSession session, SelectedFolder selected, QresyncParameters resync, StringBuilder output)
    {
        var largest = selected.Snapshot.UidNext - 1;
        var known = resync.KnownUids is null ? null : ModSeqSyntax.Resolve(resync.KnownUids, largest);
        var vanished = selected.Folder.VanishedSince(resync.ModSeq, known, UnchangedUpTo(selected, resync.Match, largest));
        if (vanished.Count > 0)
        {
            output.Append($"* VANISHED (EARLIER) {ModSeqSyntax.Format(vanished)}\r\n");
        }
        for (var i = 0; i < selected.Count; i++)
        {
            var uid = selected.Uids[i];
            if (selected.Message(uid) is { } message && message.ModSeq > resync.ModSeq && (resync.KnownUids?.Contains(uid, largest) ?? true))
            {
                output.Append($"* {i + 1} FETCH (UID {uid} FLAGS {selected.FlagsOf(message)} MODSEQ ({message.ModSeq}))\r\n");
            }
        }
    }

    /// <summary>
    /// RFC 7162 §3.2.5.2: the largest UID whose sequence number is the same for the client and for us;
    /// no message at or below it can have been expunged since the client looked (UIDs only grow).
    /// </summary>
    private static uint UnchangedUpTo(SelectedFolder selected, (SequenceSet Sequences, SequenceSet Uids)? match, uint largest)
    {
        if (match is not { } pairs)
        {
            return 0;
        }
        var sequences = Expand(pairs.Sequences, (uint)selected.Count);
        var uids = Expand(pairs.Uids, largest);
        if (sequences is null || uids is null || sequences.Count != uids.Count)
        {
            return 0;
        }
        uint unchanged = 0;
        for (var i = 0; i < sequences.Count; i++)
        {
            if (sequences[i] > selected.Count || selected.Uids[(int)sequences[i] - 1] != uids[i])
            {
                break;
            }
            unchanged = uids[i];
        }
        return unchanged;
    }

    private static List<uint>? Expand(SequenceSet set, uint largest)
    {
        var numbers = new List<uint>();
        foreach (var (first, last) in ModSeqSyntax.Resolve(set, largest))
        {
            if (first == 0 || numbers.Count + (long)(last - first) >= MaxSequenceMatch)
            {
                return null;
            }
            for (var n = (ulong)first; n <= last; n++)
            {
                numbers.Add((uint)n);
            }
        }
        return numbers;
    }

    private sealed record QresyncParameters(uint UidValidity, ulong ModSeq, SequenceSet? KnownUids, (SequenceSet Sequences, SequenceSet Uids)? Match);
}
