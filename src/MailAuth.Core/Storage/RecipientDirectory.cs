using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>
/// Recipients looked up in one statement: the mailbox's disabled flag and whether its domain is
/// hosted. Asked each time rather than cached: a domain or mailbox added with the CLI counts at once.
/// </summary>
internal sealed class RecipientDirectory(StoreDatabase database) : IRecipientDirectory
{
    public async Task<RecipientStatus> FindAsync(EmailAddress recipient, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT disabled_reason IS NOT NULL FROM mailboxes WHERE address = @address),
                   EXISTS (SELECT 1 FROM domains WHERE name = @domain)
            """;
        command.AddParameter("@address", recipient.ToString());
        command.AddParameter("@domain", recipient.Domain);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (!await reader.IsDBNullAsync(0, cancellationToken))
        {
            return reader.GetBoolean(0) ? RecipientStatus.DisabledMailbox : RecipientStatus.Mailbox;
        }
        return reader.GetBoolean(1) ? RecipientStatus.UnknownInHostedDomain : RecipientStatus.OtherDomain;
    }

    public async Task<bool> IsHostedDomainAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM domains WHERE name = @domain)";
        command.AddParameter("@domain", domain);
        return Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }
}
