using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Server.Socketmap;

/// <summary>
/// Answers one socketmap request, <c>name key</c>, with exactly one of socketmap_table(5)'s
/// replies: <c>OK data</c>, <c>NOTFOUND </c>, <c>TEMP reason</c> or <c>PERM reason</c>. Keys are
/// normalised as logins are (case folded, IDN domains in their <c>xn--</c> form), so Postfix's
/// spelling of an address does not matter. A key that is no valid address or domain is simply
/// not found: Postfix asks for <c>@domain</c> and bare local parts too, which MailAuth never holds.
/// </summary>
internal sealed class SocketmapLookup(IRecipientDirectory directory)
{
    /// <summary>The map names, as in <c>socketmap:inet:127.0.0.1:PORT:NAME</c>.</summary>
    public const string Domains = "domains";
    public const string Mailboxes = "mailboxes";
    public const string Senders = "senders";

    public const string NotFound = "NOTFOUND ";

    public async Task<string> AnswerAsync(string request, CancellationToken cancellationToken)
    {
        var space = request.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == request.Length - 1)
        {
            return "PERM malformed request: expected 'name key'";
        }
        var name = request[..space];
        var key = request[(space + 1)..];
        return name switch
        {
            Domains => await DomainAsync(key, cancellationToken),
            Mailboxes => await MailboxAsync(key, cancellationToken),
            Senders => await SenderOwnerAsync(key, cancellationToken),
            _ => "PERM unknown map name " + Printable(name),
        };
    }

    /// <summary><c>virtual_mailbox_domains</c>: the domains whose mailboxes are here.</summary>
    private async Task<string> DomainAsync(string key, CancellationToken cancellationToken) =>
        AddressNormalizer.TryNormalizeDomain(key, out var domain, out _) && await directory.IsHostedDomainAsync(domain, cancellationToken)
            ? "OK " + domain
            : NotFound;

    /// <summary>
    /// <c>virtual_mailbox_maps</c>: mailboxes that take mail. A disabled mailbox is not found, so
    /// that Postfix refuses it during the SMTP dialogue rather than accepting mail it must bounce.
    /// </summary>
    private async Task<string> MailboxAsync(string key, CancellationToken cancellationToken) =>
        AddressNormalizer.TryNormalize(key, out var address, out _)
            && await directory.FindAsync(address, cancellationToken) == RecipientStatus.Mailbox
            ? "OK " + address
            : NotFound;

    /// <summary>
    /// <c>smtpd_sender_login_maps</c>: the login that owns a sender address. Submission's rule is
    /// that the envelope sender is the logged-in mailbox's own address, so each mailbox owns its
    /// address and nothing else; the SASL service reports that same normalised address as the
    /// login (<c>user=</c>), which is what Postfix compares with this answer.
    /// </summary>
    private async Task<string> SenderOwnerAsync(string key, CancellationToken cancellationToken) =>
        AddressNormalizer.TryNormalize(key, out var address, out _)
            && await directory.FindAsync(address, cancellationToken) is RecipientStatus.Mailbox or RecipientStatus.DisabledMailbox
            ? "OK " + address
            : NotFound;

    private static string Printable(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, 64));
        foreach (var c in text.Take(64))
        {
            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }
        return builder.ToString();
    }
}
