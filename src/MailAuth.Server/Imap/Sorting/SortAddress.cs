using MailAuth.Server.Imap.Mime;

namespace MailAuth.Server.Imap.Sorting;

/// <summary>The address sort keys of the first address of a header (RFC 5256 §3, RFC 5957 §3).</summary>
internal static class SortAddress
{
    /// <summary>FROM, TO, CC: the addr-mailbox (local part) of the first address, or empty.</summary>
    public static string Mailbox(string? header)
    {
        if (First(header) is not { } first)
        {
            return "";
        }
        return BaseSubject.CaseMap(first.Mailbox ?? GroupName(first));
    }

    /// <summary>
    /// DISPLAYFROM, DISPLAYTO: the decoded display name of the first address, or when it has
    /// none its addr-spec (mailbox@host); a group is known by its name.
    /// </summary>
    public static string Display(string? header)
    {
        if (First(header) is not { } first)
        {
            return "";
        }
        if (first.Name is { } name && MessageFormatter.SearchableText(name).Trim() is { Length: > 0 } decoded)
        {
            return BaseSubject.CaseMap(decoded);
        }
        if (first.Mailbox is null || first.Host is null)
        {
            return BaseSubject.CaseMap(first.Mailbox ?? GroupName(first));
        }
        return BaseSubject.CaseMap(first.Host.Length == 0 ? first.Mailbox : $"{first.Mailbox}@{first.Host}");
    }

    private static EnvelopeAddress? First(string? header) =>
        header is null ? null : EnvelopeAddress.ParseList(header).FirstOrDefault();

    /// <summary>
    /// A group's start marker carries the group name where an address has its mailbox (RFC 3501
    /// §7.4.2, "(NIL NIL name NIL)"); the name is read from whichever field holds it.
    /// </summary>
    private static string GroupName(EnvelopeAddress marker) => marker.Mailbox ?? marker.Host ?? "";
}
