using MailAuth.Core.Addresses;
using MailAuth.Core.Passwords;
using Microsoft.Extensions.Logging;

namespace MailAuth.Core.Mailboxes;

/// <summary>
/// The admin operations on domains and mailboxes: input is normalised and checked here, passwords
/// are hashed here, and every change is logged (never with a secret).
/// </summary>
public sealed partial class MailboxAdministration(
    IMailboxDirectory directory,
    IPasswordHasher hasher,
    ILogger<MailboxAdministration> logger)
{
    private const int MaxReasonLength = 200;

    public Task<string> AddDomainAsync(string domain, CancellationToken cancellationToken) =>
        AddDomainAsync(domain, defaultNode: null, cancellationToken);

    /// <summary>Adds a domain whose new mailboxes are homed on <paramref name="defaultNode"/> unless told otherwise (null: none).</summary>
    public async Task<string> AddDomainAsync(string domain, string? defaultNode, CancellationToken cancellationToken)
    {
        var name = NormalizeDomain(domain);
        await directory.AddDomainAsync(name, defaultNode is null ? null : NodeName.Normalize(defaultNode), cancellationToken);
        LogChange("domain added", name);
        return name;
    }

    public async Task<IReadOnlyList<EmailAddress>> RemoveDomainAsync(string domain, bool includingMailboxes, CancellationToken cancellationToken)
    {
        var name = NormalizeDomain(domain);
        var removed = await directory.RemoveDomainAsync(name, includingMailboxes, cancellationToken);
        LogChange($"domain removed with {removed.Count} mailbox(es)", name);
        return removed;
    }

    public Task<IReadOnlyList<Domain>> ListDomainsAsync(CancellationToken cancellationToken) =>
        directory.ListDomainsAsync(cancellationToken);

    public Task<EmailAddress> AddMailboxAsync(string address, string password, CancellationToken cancellationToken) =>
        AddMailboxAsync(address, password, homeNode: null, cancellationToken);

    /// <summary>Adds a mailbox homed on <paramref name="homeNode"/> (null: its domain's default node, if any).</summary>
    public async Task<EmailAddress> AddMailboxAsync(string address, string password, string? homeNode, CancellationToken cancellationToken)
    {
        var parsed = EmailAddress.Parse(address);
        PasswordPolicy.EnsureAcceptable(password);
        await directory.AddMailboxAsync(parsed, hasher.Hash(password), homeNode is null ? null : NodeName.Normalize(homeNode), cancellationToken);
        LogChange("mailbox added", parsed.ToString());
        return parsed;
    }

    /// <summary>Sets a mailbox password; its open sessions end unless <paramref name="endSessions"/> is false.</summary>
    public async Task<EmailAddress> SetPasswordAsync(string address, string password, bool endSessions, CancellationToken cancellationToken)
    {
        var parsed = EmailAddress.Parse(address);
        PasswordPolicy.EnsureAcceptable(password);
        await directory.SetPasswordHashAsync(parsed, hasher.Hash(password), endSessions, cancellationToken);
        LogChange("mailbox password changed", parsed.ToString());
        return parsed;
    }

    /// <summary>
    /// The holder's change (issue 16, flow 2), after the current password was verified through the
    /// login path: the same policy and hashing as an admin's, the change audited as the holder's,
    /// and the mailbox's open sessions end.
    /// </summary>
    public async Task ChangePasswordAsHolderAsync(EmailAddress address, string newPassword, string client, CancellationToken cancellationToken)
    {
        PasswordPolicy.EnsureAcceptable(newPassword);
        // Logged by the audit log as the holder's change, not as an admin's.
        await directory.ChangePasswordHashByHolderAsync(address, hasher.Hash(newPassword), client, cancellationToken);
    }

    public async Task<EmailAddress> RemoveMailboxAsync(string address, CancellationToken cancellationToken)
    {
        var parsed = EmailAddress.Parse(address);
        await directory.RemoveMailboxAsync(parsed, cancellationToken);
        LogChange("mailbox removed", parsed.ToString());
        return parsed;
    }

    public async Task<EmailAddress> DisableMailboxAsync(string address, string reason, CancellationToken cancellationToken)
    {
        var parsed = EmailAddress.Parse(address);
        reason = reason.Trim();
        if (reason.Length == 0 || reason.Length > MaxReasonLength || reason.Any(char.IsControl))
        {
            throw new CredentialOperationException($"give a reason of 1 to {MaxReasonLength} characters on one line");
        }
        await directory.SetDisabledAsync(parsed, reason, cancellationToken);
        LogChange("mailbox disabled", parsed.ToString());
        return parsed;
    }

    public async Task<EmailAddress> EnableMailboxAsync(string address, CancellationToken cancellationToken)
    {
        var parsed = EmailAddress.Parse(address);
        await directory.SetDisabledAsync(parsed, null, cancellationToken);
        LogChange("mailbox enabled", parsed.ToString());
        return parsed;
    }

    public async Task<IReadOnlyList<Mailbox>> ListMailboxesAsync(string? domain, CancellationToken cancellationToken) =>
        await directory.ListMailboxesAsync(domain is null ? null : NormalizeDomain(domain), cancellationToken);

    private static string NormalizeDomain(string domain) =>
        AddressNormalizer.TryNormalizeDomain(domain, out var name, out var error)
            ? name
            : throw new CredentialOperationException($"invalid domain '{AddressNormalizer.Printable(domain)}': {error}");

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "admin: {Change} {Subject}")]
    private partial void LogChange(string change, string subject);
}
