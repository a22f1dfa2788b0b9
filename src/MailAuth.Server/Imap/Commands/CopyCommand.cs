using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>COPY, UID COPY (§6.4.7), MOVE and UID MOVE (RFC 6851), answering COPYUID (RFC 4315 UIDPLUS).</summary>
internal sealed class CopyCommand(bool byUid, bool move) : IImapCommand
{
    public string Name => (byUid ? "UID " : "") + (move ? "MOVE" : "COPY");

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var set = arguments.ReadSequenceSet();
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectEnd();
        var selected = session.RequireSelected();
        if (move && selected.ReadOnly)
        {
            session.Tagged(tag, ImapStatus.No, "The folder is open read-only (EXAMINE)", "READ-ONLY");
            return;
        }
        var target = session.RequireStore().Open(name);
        if (target is null)
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "TRYCREATE");
            return;
        }
        var uids = selected.Resolve(set, byUid).Select(i => selected.Uids[i]).Where(uid => selected.Message(uid) is not null).ToList();
        if (uids.Count == 0)
        {
            session.Tagged(tag, ImapStatus.Ok, $"No messages to {(move ? "move" : "copy")}");
            return;
        }
        // A MOVE leaves the usage as it was (every folder is under the mailbox's one quota root, RFC 9208 §3),
        // so only a COPY can go over the quota; a mailbox over it can still MOVE mail to Trash.
        if (!move && !await session.Quota.AdmitsAsync(session.User!, uids.Sum(uid => Math.Max(0, selected.Message(uid)!.Size)), cancellationToken))
        {
            session.Tagged(tag, ImapStatus.No, "Over the mailbox's storage quota", QuotaResponses.OverQuota);
            return;
        }
        var pairs = selected.Folder.CopyTo(target, uids);
        var validity = target.Synchronize().UidValidity;
        var code = $"COPYUID {validity} {SequenceSet.Format([.. pairs.Select(p => p.Source)])} {SequenceSet.Format([.. pairs.Select(p => p.Target)])}";
        if (!move)
        {
            session.Tagged(tag, ImapStatus.Ok, "COPY completed", code);
            return;
        }
        var moved = pairs.Select(p => p.Source).ToHashSet();
        selected.Folder.Expunge(m => moved.Contains(m.Uid));
        session.Write($"* OK [{code}] Moved\r\n");
        selected.WriteUpdates(session, allowExpunge: true);
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
    }
}
