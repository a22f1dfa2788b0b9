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
    /// Only reads, unless the attempt is refused (that refusal counts too).
    /// </summary>
    /// <param name="knownNetwork">The caller already knows the network logged in to the identifier recently (a node's own memory).</param>
    public async Task<StoredThrottleTicket> AdmitAsync(
        IPAddress remote, string identifier, CancellationToken cancellationToken, bool knownNetwork = false)
    {
        var network = ClientNetwork.Of(remote).ToString();
        var scores = await ReadScoresAsync(network, identifier, cancellationToken);
        var decision = ThrottleDecision.Allowed;
        if (Over(scores, knownNetwork) is { } over)
        {
            await using var connection = database.Open();
            await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
            decision = await BlockAsync(connection, transaction, over, clock.GetUtcNow(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return new StoredThrottleTicket(this, network, identifier, decision, knownNetwork, scores.Pair > 0);
    }

    internal async Task<ThrottleDecision> DecideAsync(string network, string identifier, bool knownNetwork, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        var now = clock.GetUtcNow();
        var scores = await ReadScoresAsync(connection, transaction, network, identifier, now, cancellationToken);
        if (Over(scores, knownNetwork) is { } over)
        {
            var blocked = await BlockAsync(connection, transaction, over, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return blocked;
        }
        await ChargeAsync(connection, transaction, network, identifier, +1, cancellationToken);
        if (Random.Shared.Next(PruneEvery) == 0)
        {
            await ThrottleScoreTable.PruneAsync(connection, transaction, realm, now, HalfLife, options.RecentSuccess, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return ThrottleDecision.Allowed;
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

    /// <summary>Over the limit: this attempt counts too, so a client hammering stays blocked.</summary>
    private async Task<ThrottleDecision> BlockAsync(
        DbConnection connection, DbTransaction transaction, Limit over, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await ThrottleScoreTable.AddAsync(connection, transaction, realm, over.Kind, over.Key, 1, ThrottlePolicy.Cap(over.Failures), now, HalfLife, cancellationToken);
        return ThrottlePolicy.Block(over.Score - over.Failures, options.MaxDelay, over.What);
    }

    private async Task<Scores> ReadScoresAsync(string network, string identifier, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ReadScoresAsync(connection, null, network, identifier, clock.GetUtcNow(), cancellationToken);
    }

    private async Task<Scores> ReadScoresAsync(
        DbConnection connection, DbTransaction? transaction, string network, string identifier, DateTimeOffset now, CancellationToken cancellationToken) =>
        new(
            network,
            identifier,
            await ThrottleScoreTable.ReadAsync(connection, transaction, realm, Pair, PairKey(network, identifier), now, HalfLife, cancellationToken),
            await ThrottleScoreTable.ReadAsync(connection, transaction, realm, Identifier, identifier, now, HalfLife, cancellationToken),
            await ThrottleScoreTable.ReadAsync(connection, transaction, realm, Network, network, now, HalfLife, cancellationToken),
            await ThrottleScoreTable.SucceededSinceAsync(connection, transaction, realm, network, identifier, now - options.RecentSuccess, cancellationToken));

    /// <summary>
    /// A charged attempt failed: its charge stays. It always writes (the pair's score is stored
    /// again at this time), so that every failure costs the same whatever <paramref name="alsoInTransaction"/> adds.
    /// </summary>
    internal async Task FailAsync(
        string network, string identifier, Func<DbConnection, DbTransaction, Task>? alsoInTransaction, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await ThrottleScoreTable.AddAsync(connection, transaction, realm, Pair, PairKey(network, identifier), 0, ThrottlePolicy.Cap(options.PairFailures),
            clock.GetUtcNow(), HalfLife, cancellationToken);
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
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await ChargeAsync(connection, transaction, network, identifier, -1, cancellationToken);
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
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        if (charged)
        {
            await ChargeAsync(connection, transaction, network, identifier, -1, cancellationToken);
        }
        await ThrottleScoreTable.DeleteAsync(connection, transaction, realm, Pair, PairKey(network, identifier), cancellationToken);
        await ThrottleScoreTable.RecordSuccessAsync(connection, transaction, realm, network, identifier, clock.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task ChargeAsync(
        DbConnection connection, DbTransaction transaction, string network, string identifier, int amount, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await ThrottleScoreTable.AddAsync(connection, transaction, realm, Pair, PairKey(network, identifier), amount, ThrottlePolicy.Cap(options.PairFailures), now, HalfLife, cancellationToken);
        await ThrottleScoreTable.AddAsync(connection, transaction, realm, Identifier, identifier, amount, ThrottlePolicy.Cap(options.AddressFailures), now, HalfLife, cancellationToken);
        await ThrottleScoreTable.AddAsync(connection, transaction, realm, Network, network, amount, ThrottlePolicy.Cap(options.NetworkFailures), now, HalfLife, cancellationToken);
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

    private sealed record Scores(string Network, string Identifier, double Pair, double PerIdentifier, double PerNetwork, bool RecentlySucceeded);

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
