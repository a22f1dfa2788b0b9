using System.Text;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

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
            session.Tagged(tag, ImapStatus.No, "The folder is open read-only (EXAMINE)", "READ-ONLY");
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
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }
}
