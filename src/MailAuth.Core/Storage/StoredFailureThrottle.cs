using System.Data.Common;
using System.Net;
using MailAuth.Core.Authentication;

namespace MailAuth.Core.Storage;

/// <summary>
/// The policy of <see cref="FailureThrottle"/> with its counters in the database, for a realm whose
/// secrets are checked by separate processes (each <c>account login</c> run is one): failures per
/// (network, identifier), per identifier and per network, fading with the half-life; a network that
/// recently logged in to an identifier is exempt from the identifier and network limits. Its one
/// entry point is <see cref="AdmitAsync"/>.
/// </summary>
internal sealed class StoredFailureThrottle(StoreDatabase database, ThrottleOptions options, TimeProvider clock, string realm)
{
    private const string Pair = "pair";
    private const string Identifier = "identifier";
    private const string Network = "network";

    /// <summary>Of the attempts, about one in this many also clears out faded rows.</summary>
    private const int PruneEvery = 100;

    private TimeSpan HalfLife => options.HalfLife;

    /// <summary>
    /// Decides, before any password work, whether this attempt may go on; nothing is charged yet.
    /// Only reads (one statement, with <paramref name="alongside"/> in the same round trip), unless
    /// the attempt is refused (that refusal counts too).
    /// </summary>
    /// <param name="knownNetwork">The caller already knows the network logged in to the identifier recently (a node's own memory).</param>
    /// <param name="alongside">Another read the caller needs whatever the answer (the login's credential).</param>
    public async Task<StoredThrottleTicket> AdmitAsync(
        IPAddress remote, string identifier, CancellationToken cancellationToken, bool knownNetwork = false, StoreRead? alongside = null)
    {
        var network = ClientNetwork.Of(remote).ToString();
        Scores scores;
        await using (var connection = database.Open())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = alongside is null ? ReadScoresSql : ReadScoresSql + ";\n" + alongside.Sql;
            AddScoreParameters(command, network, identifier);
            alongside?.AddParameters(command);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            scores = await ReadScoresAsync(reader, network, identifier, clock.GetUtcNow(), cancellationToken);
            if (alongside is not null)
            {
                await reader.NextResultAsync(cancellationToken);
                await alongside.ReadAsync(reader, cancellationToken);
            }
        }
        var decision = ThrottleDecision.Allowed;
        if (Over(scores, knownNetwork) is { } over)
        {
            await using var connection = database.Open();
            await using var transaction = await database.BeginWriteLockedByFirstCommandAsync(connection, cancellationToken);
            var now = clock.GetUtcNow();
            var current = await ReadLockedScoresAsync(connection, transaction, network, identifier, now, cancellationToken);
            var writes = new ThrottleScoreWrites(realm, now);
            decision = Block(writes, over, current.Of(over.Kind));
            await writes.ExecuteAsync(connection, transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return new StoredThrottleTicket(this, network, identifier, decision, knownNetwork, scores.Pair > 0);
    }

    internal async Task<ThrottleDecision> DecideAsync(string network, string identifier, bool knownNetwork, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteLockedByFirstCommandAsync(connection, cancellationToken);
        var now = clock.GetUtcNow();
        var scores = await ReadLockedScoresAsync(connection, transaction, network, identifier, now, cancellationToken);
        var writes = new ThrottleScoreWrites(realm, now);
        var decision = ThrottleDecision.Allowed;
        if (Over(scores, knownNetwork) is { } over)
        {
            decision = Block(writes, over, over.Score);
        }
        else
        {
            Charge(writes, scores, +1);
            if (Random.Shared.Next(PruneEvery) == 0)
            {
                writes.Prune(HalfLife, options.RecentSuccess);
            }
        }
        await writes.ExecuteAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return decision;
    }

    /// <summary>The first limit <paramref name="scores"/> reach, in the order pair, identifier, network; null when none.</summary>
    private Limit? Over(Scores scores, bool knownNetwork)
    {
        var exempt = knownNetwork || scores.RecentlySucceeded;
        var limits = new Limit[]
        {
            new(Pair, PairKey(scores.Network, scores.Identifier), scores.Pair, options.PairFailures, "identifier from this network", true),
            new(Identifier, scores.Identifier, scores.PerIdentifier, options.AddressFailures, "identifier", !exempt),
            new(Network, scores.Network, scores.PerNetwork, options.NetworkFailures, "network", !exempt),
        };
        return limits.FirstOrDefault(l => l.Applies && ThrottlePolicy.Reached(l.Score, l.Failures));
    }

    /// <summary>Over the limit: this attempt counts too (on <paramref name="current"/>, the score now), so a client hammering stays blocked.</summary>
    private ThrottleDecision Block(ThrottleScoreWrites writes, Limit over, double current)
    {
        writes.Set(over.Kind, over.Key, Math.Clamp(current + 1, 0, ThrottlePolicy.Cap(over.Failures)));
        return ThrottlePolicy.Block(over.Score - over.Failures, options.MaxDelay, over.What);
    }

    /// <summary>
    /// One statement for everything an attempt is judged on: its three scores and when its network
    /// last logged in to its identifier (a row of kind <c>success</c>).
    /// </summary>
    private const string ReadScoresSql = $"""
        SELECT kind, score, at FROM throttle_scores
        WHERE realm = @realm AND ((kind = '{Pair}' AND key = @pair_key) OR (kind = '{Identifier}' AND key = @identifier) OR (kind = '{Network}' AND key = @network))
        UNION ALL
        SELECT 'success', 0, at FROM throttle_successes WHERE realm = @realm AND network = @network AND key = @identifier
        """;

    private void AddScoreParameters(DbCommand command, string network, string identifier)
    {
        command.AddParameter("@realm", realm);
        command.AddParameter("@pair_key", PairKey(network, identifier));
        command.AddParameter("@identifier", identifier);
        command.AddParameter("@network", network);
    }

    /// <summary>The scores, read after taking the writers' turn in <paramref name="transaction"/> (its first command).</summary>
    private async Task<Scores> ReadLockedScoresAsync(
        DbConnection connection, DbTransaction transaction, string network, string identifier, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = database.WriteLockSql + ReadScoresSql;
        AddScoreParameters(command, network, identifier);
        await using var reader = await database.ReadAfterWriteLockAsync(command, cancellationToken);
        return await ReadScoresAsync(reader, network, identifier, now, cancellationToken);
    }

    private async Task<Scores> ReadScoresAsync(
        DbDataReader reader, string network, string identifier, DateTimeOffset now, CancellationToken cancellationToken)
    {
        double pair = 0, perIdentifier = 0, perNetwork = 0;
        var recentlySucceeded = false;
        while (await reader.ReadAsync(cancellationToken))
        {
            var at = ThrottleScoreTable.ParseTime(reader.GetString(2));
            var score = ThrottlePolicy.Decayed(reader.GetDouble(1), at, now, HalfLife);
            switch (reader.GetString(0))
            {
                case Pair:
                    pair = score;
                    break;
                case Identifier:
                    perIdentifier = score;
                    break;
                case Network:
                    perNetwork = score;
                    break;
                default:
                    recentlySucceeded = at > now - options.RecentSuccess;
                    break;
            }
        }
        return new Scores(network, identifier, pair, perIdentifier, perNetwork, recentlySucceeded);
    }

    /// <summary>
    /// A charged attempt failed: its charge stays. It always writes (the pair's score is stored
    /// again at this time), so that every failure costs the same whatever <paramref name="alsoInTransaction"/> adds.
    /// </summary>
    internal async Task FailAsync(
        string network, string identifier, Func<DbConnection, DbTransaction, Task>? alsoInTransaction, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteLockedByFirstCommandAsync(connection, cancellationToken);
        var now = clock.GetUtcNow();
        var scores = await ReadLockedScoresAsync(connection, transaction, network, identifier, now, cancellationToken);
        var writes = new ThrottleScoreWrites(realm, now);
        writes.Set(Pair, PairKey(network, identifier), Math.Clamp(scores.Pair, 0, ThrottlePolicy.Cap(options.PairFailures)));
        await writes.ExecuteAsync(connection, transaction, cancellationToken);
        if (alsoInTransaction is not null)
        {
            await alsoInTransaction(connection, transaction);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>A charged attempt ended without an outcome: refunded.</summary>
    internal async Task RefundAsync(string network, string identifier, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteLockedByFirstCommandAsync(connection, cancellationToken);
        var now = clock.GetUtcNow();
        var scores = await ReadLockedScoresAsync(connection, transaction, network, identifier, now, cancellationToken);
        var writes = new ThrottleScoreWrites(realm, now);
        Charge(writes, scores, -1);
        await writes.ExecuteAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// A success: any charge refunded, the pair's failures forgotten, the network known to the
    /// identifier. An uncharged success (a cached login) on a pair without failures writes nothing.
    /// </summary>
    internal async Task SucceedAsync(string network, string identifier, bool charged, bool pairFailed, CancellationToken cancellationToken)
    {
        if (!charged && !pairFailed)
        {
            return;
        }
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteLockedByFirstCommandAsync(connection, cancellationToken);
        var now = clock.GetUtcNow();
        var writes = new ThrottleScoreWrites(realm, now);
        var locked = false;
        if (charged)
        {
            var scores = await ReadLockedScoresAsync(connection, transaction, network, identifier, now, cancellationToken);
            locked = true;
            writes.Set(Identifier, identifier, Math.Clamp(scores.PerIdentifier - 1, 0, ThrottlePolicy.Cap(options.AddressFailures)));
            writes.Set(Network, network, Math.Clamp(scores.PerNetwork - 1, 0, ThrottlePolicy.Cap(options.NetworkFailures)));
        }
        writes.Set(Pair, PairKey(network, identifier), 0);
        writes.RecordSuccess(network, identifier);
        await writes.ExecuteAsync(connection, transaction, cancellationToken, locked ? "" : database.WriteLockSql);
        await transaction.CommitAsync(cancellationToken);
    }

    private void Charge(ThrottleScoreWrites writes, Scores scores, int amount)
    {
        writes.Set(Pair, PairKey(scores.Network, scores.Identifier), Math.Clamp(scores.Pair + amount, 0, ThrottlePolicy.Cap(options.PairFailures)));
        writes.Set(Identifier, scores.Identifier, Math.Clamp(scores.PerIdentifier + amount, 0, ThrottlePolicy.Cap(options.AddressFailures)));
        writes.Set(Network, scores.Network, Math.Clamp(scores.PerNetwork + amount, 0, ThrottlePolicy.Cap(options.NetworkFailures)));
    }

    /// <summary>
    /// Every stored score of the realm with failures left, as <see cref="FailureThrottle.Snapshot"/>
    /// lists a node's memory: kinds <c>pair</c>, <c>identifier</c> and <c>network</c>, marked shared.
    /// </summary>
    public async Task<IReadOnlyList<ThrottleEntry>> SnapshotAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var entries = new List<ThrottleEntry>();
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, key, score, at FROM throttle_scores WHERE realm = @realm";
        command.AddParameter("@realm", realm);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var kind = reader.GetString(0);
            var failures = ThrottlePolicy.Decayed(reader.GetDouble(2), ThrottleScoreTable.ParseTime(reader.GetString(3)), now, HalfLife);
            var limit = kind switch
            {
                Pair => options.PairFailures,
                Identifier => options.AddressFailures,
                _ => options.NetworkFailures,
            };
            entries.Add(new ThrottleEntry(kind, reader.GetString(1), Math.Round(failures, 2), limit, ThrottlePolicy.Reached(failures, limit), Shared: true));
        }
        return [.. entries.Where(e => e.Failures >= 0.05).OrderByDescending(e => e.Failures / e.Limit)];
    }

    /// <summary>Forgets the failures of an IP address (its network) or of an identifier, as <see cref="FailureThrottle.Clear"/> does; returns the rows that went.</summary>
    public async Task<int> ClearAsync(string ipOrIdentifier, CancellationToken cancellationToken)
    {
        var network = IPAddress.TryParse(ipOrIdentifier, out var ip) ? ClientNetwork.Of(ip).ToString() : null;
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // substr, not LIKE: an address may hold LIKE's wildcards.
        command.CommandText = network is not null
            ? "DELETE FROM throttle_scores WHERE realm = @realm AND ((kind = @own AND key = @key) OR (kind = @pair AND substr(key, 1, length(@part)) = @part))"
            : "DELETE FROM throttle_scores WHERE realm = @realm AND ((kind = @own AND key = @key) OR (kind = @pair AND substr(key, length(key) - length(@part) + 1) = @part))";
        var key = network ?? ipOrIdentifier.ToLowerInvariant();
        command.AddParameter("@realm", realm);
        command.AddParameter("@own", network is not null ? Network : Identifier);
        command.AddParameter("@key", key);
        command.AddParameter("@pair", Pair);
        command.AddParameter("@part", network is not null ? key + " " : " " + key);
        var removed = await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return removed;
    }

    private static string PairKey(string network, string identifier) => network + " " + identifier;

    private sealed record Scores(string Network, string Identifier, double Pair, double PerIdentifier, double PerNetwork, bool RecentlySucceeded)
    {
        public double Of(string kind) => kind switch
        {
            StoredFailureThrottle.Pair => Pair,
            StoredFailureThrottle.Identifier => PerIdentifier,
            _ => PerNetwork,
        };
    }

    private sealed record Limit(string Kind, string Key, double Score, int Failures, string What, bool Applies);
}

/// <summary>
/// One attempt as a <see cref="StoredFailureThrottle"/> sees it; the same stages as
/// <see cref="ThrottleTicket"/>: admitted, verifying (charged), settled. Disposing a charged,
/// unsettled ticket refunds it.
/// </summary>
internal sealed class StoredThrottleTicket : IAsyncDisposable
{
    private readonly StoredFailureThrottle _throttle;
    private readonly string _network;
    private readonly string _identifier;
    private readonly bool _knownNetwork;
    private readonly bool _pairFailed;
    private Stage _stage;

    internal StoredThrottleTicket(
        StoredFailureThrottle throttle, string network, string identifier, ThrottleDecision decision, bool knownNetwork, bool pairFailed)
    {
        _throttle = throttle;
        _network = network;
        _identifier = identifier;
        _knownNetwork = knownNetwork;
        _pairFailed = pairFailed;
        Decision = decision;
        _stage = decision.Blocked ? Stage.Settled : Stage.Admitted;
    }

    private enum Stage
    {
        Admitted,
        Verifying,
        Settled,
    }

    public ThrottleDecision Decision { get; private set; }

    public bool Blocked => Decision.Blocked;

    /// <summary>Counts this attempt as a failure before its verification runs; false (and <see cref="Blocked"/>) when that would pass a limit.</summary>
    public async Task<bool> TryStartVerificationAsync(CancellationToken cancellationToken)
    {
        if (_stage != Stage.Admitted)
        {
            throw new InvalidOperationException("a verification can start once, on an admitted attempt");
        }
        Decision = await _throttle.DecideAsync(_network, _identifier, _knownNetwork, cancellationToken);
        _stage = Decision.Blocked ? Stage.Settled : Stage.Verifying;
        return !Decision.Blocked;
    }

    public async Task SucceededAsync(CancellationToken cancellationToken)
    {
        if (_stage == Stage.Settled)
        {
            throw new InvalidOperationException("the attempt is already settled");
        }
        await _throttle.SucceedAsync(_network, _identifier, charged: _stage == Stage.Verifying, _pairFailed, cancellationToken);
        _stage = Stage.Settled;
    }

    /// <summary>The verification failed; <paramref name="alsoInTransaction"/> runs in the same transaction (e.g. counting a wrong 2FA code).</summary>
    public async Task FailedAsync(Func<DbConnection, DbTransaction, Task>? alsoInTransaction, CancellationToken cancellationToken)
    {
        if (_stage != Stage.Verifying)
        {
            throw new InvalidOperationException("only an attempt that ran its own verification can fail");
        }
        await _throttle.FailAsync(_network, _identifier, alsoInTransaction, cancellationToken);
        _stage = Stage.Settled;
    }

    /// <summary>
    /// The verification failed with a wrong password the caller already counted for this pair
    /// recently (a phone retrying a stale password): it taught the client nothing, so it is refunded.
    /// </summary>
    public async Task FailedAgainAsync(CancellationToken cancellationToken)
    {
        if (_stage != Stage.Verifying)
        {
            throw new InvalidOperationException("only an attempt that ran its own verification can fail");
        }
        _stage = Stage.Settled;
        await _throttle.RefundAsync(_network, _identifier, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stage == Stage.Verifying)
        {
            _stage = Stage.Settled;
            // The caller's token may be cancelled already (that is often why it was not settled).
            await _throttle.RefundAsync(_network, _identifier, CancellationToken.None);
        }
        _stage = Stage.Settled;
    }
}
