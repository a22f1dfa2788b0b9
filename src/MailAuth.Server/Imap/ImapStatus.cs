namespace MailAuth.Server.Imap;

/// <summary>The status of a tagged response (RFC 3501 §7.1).</summary>
internal enum ImapStatus
{
    Ok,
    No,
    Bad,
}
