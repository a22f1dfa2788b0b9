using System.Data.Common;
using System.Globalization;

namespace MailAuth.Core.Storage;

/// <summary>
/// Changes to <c>throttle_scores</c> and <c>throttle_successes</c> gathered into one command, so
/// that settling an attempt costs one round trip whatever it changes. Scores are the caller's,
/// already faded and capped (read in the same transaction); one below 0.01 is deleted.
/// </summary>
internal sealed class ThrottleScoreWrites(string realm, DateTimeOffset now)
{
    private readonly List<string> _statements = [];
    private readonly List<(string Name, object Value)> _parameters = [];

    public bool IsEmpty => _statements.Count == 0;

    public void Set(string kind, string key, double score)
    {
        var (kindName, keyName) = (Parameter(kind), Parameter(key));
        if (score < 0.01)
        {
            _statements.Add($"DELETE FROM throttle_scores WHERE realm = @realm AND kind = {kindName} AND key = {keyName}");
            return;
        }
        _statements.Add($"""
            INSERT INTO throttle_scores (realm, kind, key, score, at) VALUES (@realm, {kindName}, {keyName}, {Parameter(score)}, @at)
            ON CONFLICT (realm, kind, key) DO UPDATE SET score = excluded.score, at = excluded.at
            """);
    }

    public void RecordSuccess(string network, string key) =>
        _statements.Add($"""
            INSERT INTO throttle_successes (realm, network, key, at) VALUES (@realm, {Parameter(network)}, {Parameter(key)}, @at)
            ON CONFLICT (realm, network, key) DO UPDATE SET at = excluded.at
            """);

    /// <summary>Forgets the realm's scores faded to nothing and its successes older than <paramref name="successLifetime"/>.</summary>
    public void Prune(TimeSpan halfLife, TimeSpan successLifetime)
    {
        _statements.Add($"DELETE FROM throttle_scores WHERE realm = @realm AND at < {Parameter(ThrottleScoreTable.FormatTime(now - halfLife * ThrottleScoreTable.ForgottenAfterHalfLives))}");
        _statements.Add($"DELETE FROM throttle_successes WHERE realm = @realm AND at < {Parameter(ThrottleScoreTable.FormatTime(now - successLifetime))}");
    }

    /// <param name="prefix">Statements to run first (the writers' lock, when nothing took it yet).</param>
    public async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken, string prefix = "")
    {
        if (IsEmpty)
        {
            return;
        }
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = prefix + string.Join(";\n", _statements);
        command.AddParameter("@realm", realm);
        command.AddParameter("@at", ThrottleScoreTable.FormatTime(now));
        foreach (var (name, value) in _parameters)
        {
            command.AddParameter(name, value);
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private string Parameter(object value)
    {
        var name = "@w" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add((name, value));
        return name;
    }
}
