using System.Text;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2).</summary>
internal sealed class SelectCommand(bool readOnly) : IImapCommand
{
    public string Name => readOnly ? "EXAMINE" : "SELECT";

    public bool SendsUpdatesAfter => false;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectEnd();
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
        output.Append($"* FLAGS ({MaildirFlags.ImapFlagList})\r\n");
        output.Append(readOnly
            ? "* OK [PERMANENTFLAGS ()] Read-only folder\r\n"
            : $"* OK [PERMANENTFLAGS ({MaildirFlags.ImapFlagList})] Flags permitted\r\n");
        output.Append($"* {selected.Count} EXISTS\r\n* {selected.RecentCount} RECENT\r\n");
        var firstUnseen = snapshot.Messages.ToList().FindIndex(m => !m.Flags.HasFlag(MessageFlags.Seen));
        if (firstUnseen >= 0)
        {
            output.Append($"* OK [UNSEEN {firstUnseen + 1}] First unseen message\r\n");
        }
        output.Append($"* OK [UIDVALIDITY {snapshot.UidValidity}] UIDs valid\r\n");
        output.Append($"* OK [UIDNEXT {snapshot.UidNext}] Predicted next UID\r\n");
        session.Write(output.ToString());
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed", readOnly ? "READ-ONLY" : "READ-WRITE");
        session.Select(selected);
        return Task.CompletedTask;
    }
}
