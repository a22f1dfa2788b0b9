using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Storage;

/// <summary>Home nodes in the mailbox and domain rows (<c>home_node</c>, <c>default_node</c>); written by <see cref="MailboxStore"/>.</summary>
internal sealed class MailboxHomeStore(StoreDatabase database) : IMailboxHomes
{
    public async Task<string?> FindHomeNodeAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT coalesce(m.home_node, d.default_node)
            FROM mailboxes m JOIN domains d ON d.id = m.domain_id WHERE m.address = @address
            """;
        command.AddParameter("@address", address.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<string?> FindDomainNodeAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT default_node FROM domains WHERE name = @name";
        command.AddParameter("@name", domain);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<IReadOnlyList<NodeMailboxCount>> CountMailboxesByNodeAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT coalesce(m.home_node, d.default_node) AS node, count(*)
            FROM mailboxes m JOIN domains d ON d.id = m.domain_id
            GROUP BY coalesce(m.home_node, d.default_node) ORDER BY node
            """;
        var counts = new List<NodeMailboxCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add(new NodeMailboxCount(
                await reader.IsDBNullAsync(0, cancellationToken) ? null : reader.GetString(0), (int)reader.GetInt64(1)));
        }
        return counts;
    }
}
