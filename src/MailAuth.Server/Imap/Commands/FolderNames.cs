using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

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
