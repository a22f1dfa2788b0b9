using System.Text;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>STORE and UID STORE (RFC 3501 §6.4.6): FLAGS, +FLAGS, -FLAGS, each optionally .SILENT.</summary>
internal sealed class StoreCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID STORE" : "STORE";

    public bool AllowsExpungeUpdates => byUid;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var set = arguments.ReadSequenceSet();
        arguments.ExpectSpace();
        var item = arguments.ReadAtom().ToUpperInvariant();
        var silent = item.EndsWith(".SILENT", StringComparison.Ordinal);
        var mode = silent ? item[..^".SILENT".Length] : item;
        if (mode is not ("FLAGS" or "+FLAGS" or "-FLAGS"))
        {
            throw new ImapSyntaxException($"expected FLAGS, +FLAGS or -FLAGS, not '{ImapSession.Sanitize(item)}'");
        }
        arguments.ExpectSpace();
        var names = arguments.ReadFlags();
        arguments.ExpectEnd();
        var flags = MessageFlags.None;
        foreach (var name in names)
        {
            if (name.Equals(@"\Recent", StringComparison.OrdinalIgnoreCase))
            {
                throw new ImapSyntaxException(@"\Recent cannot be stored");
            }
            // Keywords are accepted and not kept: PERMANENTFLAGS lists no \*, so clients know.
            flags |= MaildirFlags.FromImap(name);
        }
        var selected = session.RequireSelected();
        if (selected.ReadOnly)
        {
            session.Tagged(tag, $"NO [READ-ONLY] The folder is open read-only (EXAMINE)");
            return Task.CompletedTask;
        }
        var indexes = selected.Resolve(set, byUid);
        var position = indexes.ToDictionary(i => selected.Uids[i], i => i);
        Func<MessageFlags, MessageFlags> change = mode switch
        {
            "FLAGS" => _ => flags,
            "+FLAGS" => current => current | flags,
            _ => current => current & ~flags,
        };
        var output = new StringBuilder();
        foreach (var message in selected.Folder.SetFlags(position.Keys, change))
        {
            selected.Reported(message);
            if (!silent)
            {
                output.Append($"* {position[message.Uid] + 1} FETCH (FLAGS {MaildirFlags.ToImap(message.Flags, selected.IsRecent(message.Uid))}");
                output.Append(byUid ? $" UID {message.Uid})\r\n" : ")\r\n");
            }
        }
        session.Write(output.ToString());
        session.Tagged(tag, $"OK {Name} completed");
        return Task.CompletedTask;
    }
}

/// <summary>SEARCH and UID SEARCH (§6.4.4).</summary>
internal sealed class SearchCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID SEARCH" : "SEARCH";

    public bool AllowsExpungeUpdates => byUid;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        if (arguments.TryConsumeWord("CHARSET"))
        {
            arguments.ExpectSpace();
            var charset = arguments.ReadAString();
            arguments.ExpectSpace();
            if (!charset.Equals("UTF-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("US-ASCII", StringComparison.OrdinalIgnoreCase))
            {
                session.Tagged(tag, $"NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
                return Task.CompletedTask;
            }
        }
        var key = SearchKey.ParseProgram(arguments, session.Options.MaxSearchKeys);
        var selected = session.RequireSelected();
        var budget = new SearchBudget(session.Options.MaxSearchTime);
        var matches = new List<uint>();
        var largestUid = selected.Count == 0 ? 0 : selected.Uids[^1];
        for (var i = 0; i < selected.Count; i++)
        {
            budget.Check();
            var uid = selected.Uids[i];
            if (selected.Message(uid) is not { } message)
            {
                continue;
            }
            var candidate = new SearchCandidate(selected.Folder, message, (uint)(i + 1), (uint)selected.Count, largestUid, selected.IsRecent(uid), budget);
            if (candidate.Matches(key))
            {
                matches.Add(byUid ? uid : (uint)(i + 1));
            }
        }
        var numbers = matches.Count == 0 ? "" : " " + string.Join(' ', matches);
        session.Write($"* SEARCH{numbers}\r\n");
        session.Tagged(tag, $"OK {Name} completed");
        return Task.CompletedTask;
    }
}

/// <summary>COPY, UID COPY (§6.4.7), MOVE and UID MOVE (RFC 6851), answering COPYUID (RFC 4315 UIDPLUS).</summary>
internal sealed class CopyCommand(bool byUid, bool move) : IImapCommand
{
    public string Name => (byUid ? "UID " : "") + (move ? "MOVE" : "COPY");

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var set = arguments.ReadSequenceSet();
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectEnd();
        var selected = session.RequireSelected();
        if (move && selected.ReadOnly)
        {
            session.Tagged(tag, $"NO [READ-ONLY] The folder is open read-only (EXAMINE)");
            return Task.CompletedTask;
        }
        var target = session.RequireStore().Open(name);
        if (target is null)
        {
            session.Tagged(tag, $"NO [TRYCREATE] No such folder");
            return Task.CompletedTask;
        }
        var uids = selected.Resolve(set, byUid).Select(i => selected.Uids[i]).Where(uid => selected.Message(uid) is not null).ToList();
        if (uids.Count == 0)
        {
            session.Tagged(tag, $"OK No messages to {(move ? "move" : "copy")}");
            return Task.CompletedTask;
        }
        var pairs = selected.Folder.CopyTo(target, uids);
        var validity = target.Synchronize().UidValidity;
        var code = $"COPYUID {validity} {SequenceSet.Format([.. pairs.Select(p => p.Source)])} {SequenceSet.Format([.. pairs.Select(p => p.Target)])}";
        if (!move)
        {
            session.Tagged(tag, $"OK [{code}] COPY completed");
            return Task.CompletedTask;
        }
        var moved = pairs.Select(p => p.Source).ToHashSet();
        selected.Folder.Expunge(m => moved.Contains(m.Uid));
        session.Write($"* OK [{code}] Moved\r\n");
        selected.WriteUpdates(session, allowExpunge: true);
        session.Tagged(tag, $"OK {Name} completed");
        return Task.CompletedTask;
    }
}

/// <summary>EXPUNGE (§6.4.3) and UID EXPUNGE (RFC 4315).</summary>
internal sealed class ExpungeCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID EXPUNGE" : "EXPUNGE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        SequenceSet? set = null;
        if (byUid)
        {
            arguments.ExpectSpace();
            set = arguments.ReadSequenceSet();
        }
        arguments.ExpectEnd();
        var selected = session.RequireSelected();
        if (selected.ReadOnly)
        {
            session.Tagged(tag, $"NO [READ-ONLY] The folder is open read-only (EXAMINE)");
            return Task.CompletedTask;
        }
        var largest = selected.Count == 0 ? 0 : selected.Uids[^1];
        selected.Folder.Expunge(m => m.Flags.HasFlag(MessageFlags.Deleted) && (set is null || set.Contains(m.Uid, largest)));
        selected.WriteUpdates(session, allowExpunge: true);
        session.Tagged(tag, $"OK {Name} completed");
        return Task.CompletedTask;
    }
}

/// <summary>APPEND (§6.3.11) with APPENDUID (RFC 4315); the message literal arrives as a file in tmp/.</summary>
internal sealed class AppendCommand : IImapCommand
{
    public string Name => "APPEND";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectSpace();
        var flags = MessageFlags.None;
        if (arguments.PeekIs('('))
        {
            foreach (var flag in arguments.ReadFlagList())
            {
                flags |= MaildirFlags.FromImap(flag);
            }
            arguments.ExpectSpace();
        }
        DateTimeOffset? date = null;
        if (arguments.PeekIs('"'))
        {
            date = arguments.ReadDateTime();
            arguments.ExpectSpace();
        }
        var literal = arguments.TakeLiteral();
        arguments.ExpectEnd();
        var folder = session.RequireStore().Open(name);
        if (folder is null)
        {
            session.Tagged(tag, $"NO [TRYCREATE] No such folder");
            return;
        }
        string file;
        if (literal.FilePath is not null)
        {
            file = literal.TakeFile();
        }
        else
        {
            file = Path.Combine(session.RequireStore().Root, "tmp", $"imap-append-{Guid.NewGuid():N}");
            await using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            await stream.WriteAsync(literal.Data, cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        try
        {
            var uid = folder.Add(file, flags, date);
            var validity = folder.Synchronize().UidValidity;
            session.Tagged(tag, $"OK [APPENDUID {validity} {uid}] APPEND completed");
        }
        finally
        {
            File.Delete(file); // Gone already when it was moved into the folder.
        }
    }
}

/// <summary>
/// IDLE (RFC 2177): changes to the selected folder are pushed as they happen. Another session's
/// APPEND, STORE or EXPUNGE wakes the wait at once; files delivered into new/ are found by
/// polling the folder every <see cref="Hosting.ImapOptions.IdlePollIntervalMilliseconds"/>.
/// </summary>
internal sealed class IdleCommand : IImapCommand
{
    public string Name => "IDLE";

    public bool SendsUpdatesAfter => false;

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Write("+ idling\r\n");
        session.Selected?.WriteUpdates(session, allowExpunge: true);
        if (!await session.FlushAsync(cancellationToken))
        {
            session.Closing = true;
            return;
        }
        var poll = session.Options.IdlePollInterval;
        var done = session.Connection.ReadLineAsync(session.Options.MaxLineLength, session.IdleTimeout, cancellationToken).AsTask();
        while (!done.IsCompleted)
        {
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Ended);
            var selected = session.Selected;
            var changed = selected is null ? Task.Delay(Timeout.Infinite, wake.Token) : selected.Folder.WaitForChangeAsync(selected.Snapshot.Version, wake.Token);
            await Task.WhenAny(done, changed, Task.Delay(poll, wake.Token));
            await wake.CancelAsync();
            if (session.IsEnded)
            {
                // The mailbox's sessions were ended: the session loop says BYE. The DONE read is
                // still pending, so the session cannot go on reading commands anyway.
                session.Closing = true;
                return;
            }
            if (selected is not null)
            {
                try
                {
                    selected.WriteUpdates(session, allowExpunge: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Deleted or renamed by another session. The DONE read is still pending, so the
                    // session cannot go on reading commands: it ends here.
                    session.Write("* BYE The selected folder was deleted or renamed\r\n");
                    session.Closing = true;
                    return;
                }
                if (!await session.FlushAsync(cancellationToken))
                {
                    session.Closing = true;
                    return;
                }
            }
        }
        var line = await done;
        switch (line.Status)
        {
            case Protocol.LineStatus.Line when Encoding.ASCII.GetString(line.Line).Equals("DONE", StringComparison.OrdinalIgnoreCase):
                session.Tagged(tag, $"OK IDLE terminated");
                break;
            case Protocol.LineStatus.Line or Protocol.LineStatus.TooLong:
                session.Tagged(tag, $"BAD Expected DONE to end IDLE");
                break;
            case Protocol.LineStatus.TimedOut:
                session.Write("* BYE Idle timeout, closing the connection\r\n");
                session.Closing = true;
                break;
            default:
                session.Closing = true;
                break;
        }
    }
}
