using System.Text;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

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
            session.Tagged(tag, $"NO [NONEXISTENT] No such folder");
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
        session.Tagged(tag, $"OK [{(readOnly ? "READ-ONLY" : "READ-WRITE")}] {Name} completed");
        session.Select(selected);
        return Task.CompletedTask;
    }
}

/// <summary>CREATE (§6.3.3).</summary>
internal sealed class CreateCommand : IImapCommand
{
    public string Name => "CREATE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox().TrimEnd(MaildirStore.Delimiter); // "a.b." means "a.b" that will have children
        arguments.ExpectEnd();
        var store = session.RequireStore();
        if (FolderNames.CheckNew(name) is { } problem)
        {
            session.Tagged(tag, $"NO [CANNOT] {problem}");
        }
        else if (store.Exists(name))
        {
            session.Tagged(tag, $"NO [ALREADYEXISTS] Folder already exists");
        }
        else
        {
            store.Create(name);
            session.Tagged(tag, $"OK CREATE completed");
        }
        return Task.CompletedTask;
    }
}

/// <summary>The rules for a new folder name (CREATE, RENAME): the Maildir's own, and INBOX's spelling.</summary>
internal static class FolderNames
{
    /// <summary>Why <paramref name="name"/> cannot be a new folder, or null when it can.</summary>
    public static string? CheckNew(string name)
    {
        if (MaildirStore.CheckName(name) is { } problem)
        {
            return problem;
        }
        var delimiter = name.IndexOf(MaildirStore.Delimiter);
        var top = delimiter < 0 ? name : name[..delimiter];
        // RFC 3501 §5.1: INBOX is case-insensitive, so "inbox.sub" would name a child of INBOX spelled another way.
        return top != MaildirStore.Inbox && top.Equals(MaildirStore.Inbox, StringComparison.OrdinalIgnoreCase)
            ? "sub-folders of INBOX are spelled INBOX.name, in capitals"
            : null;
    }
}

/// <summary>DELETE (§6.3.4): refused for INBOX and for a folder with sub-folders.</summary>
internal sealed class DeleteCommand : IImapCommand
{
    public string Name => "DELETE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectEnd();
        var store = session.RequireStore();
        if (name == MaildirStore.Inbox)
        {
            session.Tagged(tag, $"NO [CANNOT] INBOX cannot be deleted");
        }
        else if (!store.Exists(name))
        {
            session.Tagged(tag, $"NO [NONEXISTENT] No such folder");
        }
        else if (store.HasChildren(name))
        {
            session.Tagged(tag, $"NO [INUSE] Delete the sub-folders first");
        }
        else
        {
            if (session.Selected?.Name == name)
            {
                session.Deselect();
            }
            store.Delete(name);
            session.Tagged(tag, $"OK DELETE completed");
        }
        return Task.CompletedTask;
    }
}

/// <summary>RENAME (§6.3.5), sub-folders included; renaming INBOX is not supported.</summary>
internal sealed class RenameCommand : IImapCommand
{
    public string Name => "RENAME";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var from = arguments.ReadMailbox();
        arguments.ExpectSpace();
        var to = arguments.ReadMailbox();
        arguments.ExpectEnd();
        var store = session.RequireStore();
        if (from == MaildirStore.Inbox)
        {
            session.Tagged(tag, $"NO [CANNOT] Renaming INBOX is not supported; move the messages instead");
        }
        else if (!store.Exists(from))
        {
            session.Tagged(tag, $"NO [NONEXISTENT] No such folder");
        }
        else if (FolderNames.CheckNew(to) is { } problem)
        {
            session.Tagged(tag, $"NO [CANNOT] {problem}");
        }
        else if (store.Exists(to) || store.HasChildren(to) || to.StartsWith(from + MaildirStore.Delimiter, StringComparison.Ordinal))
        {
            session.Tagged(tag, $"NO [ALREADYEXISTS] The new name is in use");
        }
        else
        {
            if (session.Selected?.Name == from)
            {
                session.Deselect();
            }
            store.Rename(from, to);
            session.Tagged(tag, $"OK RENAME completed");
        }
        return Task.CompletedTask;
    }
}

/// <summary>SUBSCRIBE and UNSUBSCRIBE (§6.3.6, §6.3.7).</summary>
internal sealed class SubscribeCommand(bool subscribe) : IImapCommand
{
    public string Name => subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectEnd();
        var store = session.RequireStore();
        if (!MaildirStore.IsValid(name) || (subscribe && !store.Exists(name)))
        {
            session.Tagged(tag, $"NO [NONEXISTENT] No such folder");
            return Task.CompletedTask;
        }
        store.Subscribe(name, subscribe);
        session.Tagged(tag, $"OK {Name} completed");
        return Task.CompletedTask;
    }
}

/// <summary>LIST and LSUB (§6.3.8, §6.3.9) with CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes.</summary>
internal sealed class ListCommand(bool subscribedOnly) : IImapCommand
{
    public string Name => subscribedOnly ? "LSUB" : "LIST";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var reference = arguments.ReadAString();
        arguments.ExpectSpace();
        var pattern = arguments.ReadListMailbox();
        arguments.ExpectEnd();
        if (reference.Length + pattern.Length > ListPattern.MaxLength)
        {
            throw new ImapSyntaxException($"reference and mailbox pattern longer than {ListPattern.MaxLength} characters together");
        }
        var store = session.RequireStore();
        var output = new StringBuilder();
        if (pattern.Length == 0 && !subscribedOnly)
        {
            // LIST "" "": the hierarchy delimiter and root (§6.3.8).
            output.Append($"* LIST (\\Noselect) \"{MaildirStore.Delimiter}\" \"\"\r\n");
        }
        else
        {
            var matcher = Matcher(reference + pattern);
            var subscriptions = subscribedOnly ? store.Subscriptions() : null;
            foreach (var folder in store.List())
            {
                if (!matcher(folder.Name) || (subscriptions is not null && !subscriptions.Contains(folder.Name)))
                {
                    continue;
                }
                var attributes = new List<string>();
                if (!folder.Selectable)
                {
                    attributes.Add(@"\Noselect");
                }
                attributes.Add(folder.HasChildren ? @"\HasChildren" : @"\HasNoChildren");
                if (folder.SpecialUse is { } use)
                {
                    attributes.Add(use);
                }
                output.Append($"* {Name} ({string.Join(' ', attributes)}) \"{MaildirStore.Delimiter}\" {ImapFormat.AString(folder.Name)}\r\n");
            }
        }
        session.Write(output.ToString());
        session.Tagged(tag, $"OK {Name} completed");
        return Task.CompletedTask;
    }

    /// <summary>The matcher of a LIST or LSUB pattern (<see cref="ListPattern"/>).</summary>
    public static Func<string, bool> Matcher(string pattern) => new ListPattern(pattern).Matches;
}

/// <summary>STATUS (§6.3.10).</summary>
internal sealed class StatusCommand : IImapCommand
{
    public string Name => "STATUS";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectSpace();
        arguments.Expect('(');
        var items = new List<string>();
        do
        {
            items.Add(arguments.ReadAtom().ToUpperInvariant());
        }
        while (arguments.TryConsume(' '));
        arguments.Expect(')');
        arguments.ExpectEnd();
        var folder = session.RequireStore().Open(name);
        if (folder is null)
        {
            session.Tagged(tag, $"NO [NONEXISTENT] No such folder");
            return Task.CompletedTask;
        }
        var snapshot = folder.Synchronize(rescan: true);
        var values = new List<string>();
        foreach (var item in items)
        {
            values.Add(item switch
            {
                "MESSAGES" => $"MESSAGES {snapshot.Messages.Count}",
                "RECENT" => $"RECENT {folder.UnclaimedRecentCount}",
                "UIDNEXT" => $"UIDNEXT {snapshot.UidNext}",
                "UIDVALIDITY" => $"UIDVALIDITY {snapshot.UidValidity}",
                "UNSEEN" => $"UNSEEN {snapshot.Messages.Count(m => !m.Flags.HasFlag(MessageFlags.Seen))}",
                _ => throw new ImapSyntaxException($"unknown STATUS item '{ImapSession.Sanitize(item)}'"),
            });
        }
        session.Write($"* STATUS {ImapFormat.AString(name)} ({string.Join(' ', values)})\r\n");
        session.Tagged(tag, $"OK STATUS completed");
        return Task.CompletedTask;
    }
}

/// <summary>NAMESPACE (RFC 2342): one personal namespace, no shared ones.</summary>
internal sealed class NamespaceCommand : IImapCommand
{
    public string Name => "NAMESPACE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Write($"* NAMESPACE ((\"\" \"{MaildirStore.Delimiter}\")) NIL NIL\r\n");
        session.Tagged(tag, $"OK NAMESPACE completed");
        return Task.CompletedTask;
    }
}

/// <summary>ENABLE (RFC 5161): none of the extensions it can enable is implemented, so nothing is enabled.</summary>
internal sealed class EnableCommand : IImapCommand
{
    public string Name => "ENABLE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        do
        {
            arguments.ExpectSpace();
            arguments.ReadAtom();
        }
        while (!arguments.AtEnd);
        session.Write($"* ENABLED\r\n");
        session.Tagged(tag, $"OK ENABLE completed");
        return Task.CompletedTask;
    }
}

/// <summary>CHECK (§6.4.1): every change is already on disk.</summary>
internal sealed class CheckCommand : IImapCommand
{
    public string Name => "CHECK";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Tagged(tag, $"OK CHECK completed");
        return Task.CompletedTask;
    }
}

/// <summary>CLOSE (§6.4.2): expunges \Deleted messages silently (unless read-only) and deselects.</summary>
internal sealed class CloseCommand : IImapCommand
{
    public string Name => "CLOSE";

    public bool SendsUpdatesAfter => false;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        var selected = session.RequireSelected();
        if (!selected.ReadOnly)
        {
            selected.Folder.Expunge(m => m.Flags.HasFlag(MessageFlags.Deleted));
        }
        session.Deselect();
        session.Tagged(tag, $"OK CLOSE completed");
        return Task.CompletedTask;
    }
}

/// <summary>UNSELECT (RFC 3691): deselects without expunging.</summary>
internal sealed class UnselectCommand : IImapCommand
{
    public string Name => "UNSELECT";

    public bool SendsUpdatesAfter => false;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Deselect();
        session.Tagged(tag, $"OK UNSELECT completed");
        return Task.CompletedTask;
    }
}
