using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>The order LIST answers in, as <see cref="MaildirStore.List"/> does: INBOX first, then by name.</summary>
internal sealed class FolderOrder : IComparer<string>
{
    public static readonly FolderOrder Instance = new();

    public int Compare(string? x, string? y) =>
        x == y ? 0
        : x == MaildirStore.Inbox ? -1
        : y == MaildirStore.Inbox ? 1
        : string.CompareOrdinal(x, y);
}
