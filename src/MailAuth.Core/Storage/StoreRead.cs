using System.Data.Common;

namespace MailAuth.Core.Storage;

/// <summary>
/// A SELECT that can travel in one command with another store's statements (one round trip on
/// PostgreSQL): its text, its parameters (named apart from the other's), and how its result is read.
/// </summary>
internal abstract class StoreRead
{
    public abstract string Sql { get; }

    public abstract void AddParameters(DbCommand command);

    /// <summary>Reads this statement's result set, where the reader stands.</summary>
    public abstract Task ReadAsync(DbDataReader reader, CancellationToken cancellationToken);
}
