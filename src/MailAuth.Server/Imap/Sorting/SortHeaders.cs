using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Sorting;

/// <summary>
/// The header SORT and THREAD read their keys from (Date, Subject, From, To, Cc, Message-ID,
/// References, In-Reply-To: all fields the header cache keeps): the cached lines when the folder's
/// header cache has the message, else its header block, which is then added to the cache.
/// </summary>
internal static class SortHeaders
{
    public static MimeEntity? Of(SelectedFolder selected, MaildirMessage message, HeaderCacheReader? headerCache)
    {
        if (headerCache?.Find(message, CachedPart.Header) is { } payload && CachedHeader.Read(payload) is { } cached)
        {
            return MessageListItems.ParseFields(cached.Lines);
        }
        var parsed = HeaderBlock.Parse(selected.Folder.FilePathOf(message.Uid), HeaderBlock.SortKeyBytes);
        if (headerCache is not null && parsed is not null && MessageListItems.HeaderPayload(parsed) is { } made)
        {
            headerCache.Add(message, CachedPart.Header, made);
        }
        return parsed;
    }
}
