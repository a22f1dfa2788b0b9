using System.Data.Common;
using System.Globalization;
using MailAuth.Core.Authentication;

namespace MailAuth.Core.Storage;

/// <summary>
/// Failure scores kept in the database (<c>throttle_scores</c>, <c>throttle_successes</c>), read
/// and written inside the caller's transaction. A score is stored with the time it was last
/// changed and fades with the half-life on reading, as in memory.
/// </summary>
internal static class ThrottleScoreTable
{
    /// <summary>Rows left untouched this many half-lives hold less than a thousandth of their cap: they go.</summary>
    internal const int ForgottenAfterHalfLives = 10;

    public static async Task<double> ReadAsync(
        DbConnection connection, DbTransaction? transaction, string realm, string kind, string key, DateTimeOffset now, TimeSpan halfLife,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT score, at FROM throttle_scores WHERE realm = @realm AND kind = @kind AND key = @key";
        command.AddParameter("@realm", realm);
        command.AddParameter("@kind", kind);
        command.AddParameter("@key", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? ThrottlePolicy.Decayed(reader.GetDouble(0), ParseTime(reader.GetString(1)), now, halfLife)
            : 0;
    }

    /// <summary>Adds <paramref name="amount"/> (negative: a refund) to the faded score, within 0 and <paramref name="cap"/>; a score back at 0 is deleted.</summary>
    public static async Task AddAsync(
        DbConnection connection, DbTransaction transaction, string realm, string kind, string key, double amount, double cap,
        DateTimeOffset now, TimeSpan halfLife, CancellationToken cancellationToken)
    {
        var score = Math.Clamp(await ReadAsync(connection, transaction, realm, kind, key, now, halfLife, cancellationToken) + amount, 0, cap);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = score < 0.01
            ? "DELETE FROM throttle_scores WHERE realm = @realm AND kind = @kind AND key = @key"
            : """
              INSERT INTO throttle_scores (realm, kind, key, score, at) VALUES (@realm, @kind, @key, @score, @at)
              ON CONFLICT (realm, kind, key) DO UPDATE SET score = excluded.score, at = excluded.at
              """;
        command.AddParameter("@realm", realm);
        command.AddParameter("@kind", kind);
        command.AddParameter("@key", key);
        command.AddParameter("@score", score);
        command.AddParameter("@at", FormatTime(now));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static string FormatTime(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    internal static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
