using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Sorting;

/// <summary>The sent date of RFC 5256 §2.2: the Date header in UTC, or the internal date when it is missing or unreadable.</summary>
internal static class SentDate
{
    public static DateTimeOffset Of(MimeEntity? headers, MaildirMessage message) =>
        headers?.Header("Date") is { } date && Rfc5322Date.TryParse(date, out var sent) ? sent.ToUniversalTime() : message.InternalDate.ToUniversalTime();
}
