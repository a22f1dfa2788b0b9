using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace MailAuth.Core.Authentication;

/// <summary>
/// Counts failed mail logins, in memory, per (network, address), per address and per network (an
/// IPv4 address or IPv6 /64), with a half-life instead of a fixed window. Past a limit, attempts
/// are refused before any Argon2 work, after a delay that doubles with each further attempt.
/// Unlike a per-IP ban, a network that recently logged in to an address keeps reaching that
/// address through the address and network limits, so people behind one NAT with an attacker
/// keep working; and a client retrying the same stale wrong password counts once.
/// Its one entry point is <see cref="Admit"/>: the <see cref="ThrottleTicket"/> it returns carries
/// the attempt to its outcome.
/// </summary>
public sealed class FailureThrottle
{
    private const int RememberedWrongPasswords = 4;

    private readonly ThrottleOptions _options;
    private readonly IPNetwork[] _trusted;
    private readonly TimeProvider _clock;
    private readonly byte[] _digestKey = RandomNumberGenerator.GetBytes(32);
    private readonly Lock _evictionLock = new();
    private readonly ConcurrentDictionary<(IPAddress Network, string Address), PairState> _pairs = new();
    private readonly ConcurrentDictionary<string, Score> _addresses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, Score> _networks = new();
    private readonly RecentSuccesses _successes;

    /// <summary>A throttle that never blocks (tests, tools).</summary>
    public static FailureThrottle Unlimited => new(
        new ThrottleOptions { PairFailures = int.MaxValue, AddressFailures = int.MaxValue, NetworkFailures = int.MaxValue },
        [],
        TimeProvider.System);

    public FailureThrottle(ThrottleOptions options, IEnumerable<IPNetwork> trusted, TimeProvider clock)
    {
        _options = options;
        _trusted = [.. trusted];
        _clock = clock;
        _successes = new RecentSuccesses(options.MaxTrackedEntries, options.RecentSuccess);
    }

    /// <summary>
    /// Decides, before any password work, whether this attempt may go on; nothing is charged yet
    /// (see <see cref="ThrottleTicket.TryStartVerification"/>). <paramref name="trustable"/> is false
    /// when the address was reported by a caller: <c>TrustedNetworks</c> then exempt nothing.
    /// </summary>
    public ThrottleTicket Admit(IPAddress remote, string address, bool trustable = true)
    {
        if (trustable && IsTrusted(remote))
        {
            return ThrottleTicket.Unthrottled;
        }
        var network = ClientNetwork.Of(remote);
        return new ThrottleTicket(this, network, address, Decide(network, address, charge: false))
        {
            KnownNetwork = _successes.Contains(network, address, _clock.GetUtcNow()),
        };
    }

    internal ThrottleDecision Decide(IPAddress network, string address, bool charge)
    {
        var now = _clock.GetUtcNow();
        MakeRoom();
        var (pair, perAddress, perNetwork) = Entries(network, address);
        var exempt = _successes.Contains(network, address, now);
        // A pair that logged in recently is not held back by its own parallel logins (a client
        // opening six connections at once); its failures still count.
        if (ThrottlePolicy.Reached(pair.Score.Value(now, HalfLife) + (exempt ? 0 : pair.InFlight), _options.PairFailures))
        {
            return Block(pair.Score, _options.PairFailures, "address from this network", now);
        }
        if (!exempt && ThrottlePolicy.Reached(perAddress.Value(now, HalfLife), _options.AddressFailures))
        {
            return Block(perAddress, _options.AddressFailures, "address", now);
        }
        if (!exempt && ThrottlePolicy.Reached(perNetwork.Value(now, HalfLife), _options.NetworkFailures))
        {
            return Block(perNetwork, _options.NetworkFailures, "network", now);
        }
        if (charge)
        {
            pair.Admit();
            Charge(perAddress, perNetwork, now, +1);
        }
        return ThrottleDecision.Allowed;
    }

    /// <summary>A charged attempt failed: it stays charged, unless it repeated a wrong password already counted (then false).</summary>
    internal bool Fail(IPAddress network, string address, string password)
    {
        var (pair, perAddress, perNetwork) = Entries(network, address);
        pair.Release();
        if (pair.RememberWrongPassword(WrongPasswordDigest(password)))
        {
            pair.Score.Add(_clock.GetUtcNow(), HalfLife, 1, cap: ThrottlePolicy.Cap(_options.PairFailures));
            return true;
        }
        // The same stale password again (a phone retrying): it taught the client nothing new.
        Charge(perAddress, perNetwork, _clock.GetUtcNow(), -1);
        return false;
    }

    /// <summary>A charged attempt that ended without an outcome (the hashing pool was full, the client left): refunded.</summary>
    internal void Refund(IPAddress network, string address)
    {
        var (pair, perAddress, perNetwork) = Entries(network, address);
        pair.Release();
        Charge(perAddress, perNetwork, _clock.GetUtcNow(), -1);
    }

    /// <summary>A success, charged or not: the network is known to the address from now on.</summary>
    internal void Succeed(IPAddress network, string address, bool charged)
    {
        if (charged)
        {
            Refund(network, address);
        }
        _successes.Add(network, address, _clock.GetUtcNow());
        _pairs.TryRemove((network, address), out _);
    }

    private (PairState Pair, Score PerAddress, Score PerNetwork) Entries(IPAddress network, string address) =>
    (
        _pairs.GetOrAdd((network, address), _ => new PairState()),
        _addresses.GetOrAdd(address, _ => new Score()),
        _networks.GetOrAdd(network, _ => new Score())
    );

    private void Charge(Score perAddress, Score perNetwork, DateTimeOffset now, int amount)
    {
        perAddress.Add(now, HalfLife, amount, cap: ThrottlePolicy.Cap(_options.AddressFailures));
        perNetwork.Add(now, HalfLife, amount, cap: ThrottlePolicy.Cap(_options.NetworkFailures));
    }

    public IReadOnlyList<ThrottleEntry> Snapshot()
    {
        var now = _clock.GetUtcNow();
        var entries = new List<ThrottleEntry>();
        foreach (var ((network, address), pair) in _pairs)
        {
            entries.Add(Entry("pair", $"{network} {address}", pair.Score.Value(now, HalfLife) + pair.InFlight, _options.PairFailures));
        }
        foreach (var (address, score) in _addresses)
        {
            entries.Add(Entry("address", address, score.Value(now, HalfLife), _options.AddressFailures));
        }
        foreach (var (network, score) in _networks)
        {
            entries.Add(Entry("network", network.ToString(), score.Value(now, HalfLife), _options.NetworkFailures));
        }
        return [.. entries.Where(e => e.Failures >= 0.05).OrderByDescending(e => e.Failures / e.Limit)];

        static ThrottleEntry Entry(string kind, string key, double failures, int limit) =>
            new(kind, key, Math.Round(failures, 2), limit, ThrottlePolicy.Reached(failures, limit));
    }

    /// <summary>Forgets the failures of an IP address (its network) or of a mailbox address; returns how many entries went.</summary>
    public int Clear(string ipOrAddress)
    {
        var removed = 0;
        if (IPAddress.TryParse(ipOrAddress, out var ip))
        {
            var network = ClientNetwork.Of(ip);
            removed += _networks.TryRemove(network, out _) ? 1 : 0;
            foreach (var key in _pairs.Keys.Where(k => k.Network.Equals(network)))
            {
                removed += _pairs.TryRemove(key, out _) ? 1 : 0;
            }
            return removed;
        }
        var address = ipOrAddress.ToLowerInvariant();
        removed += _addresses.TryRemove(address, out _) ? 1 : 0;
        foreach (var key in _pairs.Keys.Where(k => k.Address == address))
        {
            removed += _pairs.TryRemove(key, out _) ? 1 : 0;
        }
        return removed;
    }

    /// <summary>Failure entries held (pairs, addresses, networks), for tests.</summary>
    internal int TrackedFailureEntries => _pairs.Count + _addresses.Count + _networks.Count;

    /// <summary>Recent successes held, for tests.</summary>
    internal int TrackedSuccesses => _successes.Count;

    private TimeSpan HalfLife => _options.HalfLife;

    private bool IsTrusted(IPAddress remote)
    {
        var address = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        return _trusted.Any(network => network.Contains(address));
    }

    /// <summary>Over the limit: this attempt counts too (so a client hammering stays blocked) and waits longer.</summary>
    private ThrottleDecision Block(Score score, int limit, string what, DateTimeOffset now)
    {
        var over = score.Value(now, HalfLife) - limit;
        score.Add(now, HalfLife, 1, cap: ThrottlePolicy.Cap(limit));
        return ThrottlePolicy.Block(over, _options.MaxDelay, what);
    }

    private ulong WrongPasswordDigest(string password)
    {
        Span<byte> digest = stackalloc byte[32];
        HMACSHA256.HashData(_digestKey, Encoding.UTF8.GetBytes(password), digest);
        return BitConverter.ToUInt64(digest);
    }

    /// <summary>
    /// Keeps the failure counters' memory bounded whatever an attacker varies: past the limit, the
    /// entries with the fewest failures go until half the room is free (blocked entries, the
    /// highest, stay). Successes are bounded apart (<see cref="RecentSuccesses"/>) and never count here.
    /// </summary>
    private void MakeRoom()
    {
        if (TrackedFailureEntries < _options.MaxTrackedEntries)
        {
            return;
        }
        lock (_evictionLock)
        {
            var total = TrackedFailureEntries;
            if (total < _options.MaxTrackedEntries)
            {
                return;
            }
            var now = _clock.GetUtcNow();
            var candidates = new List<(double Failures, Action Remove)>(total);
            candidates.AddRange(_pairs.Select(p => (p.Value.Score.Value(now, HalfLife) + p.Value.InFlight, (Action)(() => _pairs.TryRemove(p.Key, out _)))));
            candidates.AddRange(_addresses.Select(a => (a.Value.Value(now, HalfLife), (Action)(() => _addresses.TryRemove(a.Key, out _)))));
            candidates.AddRange(_networks.Select(n => (n.Value.Value(now, HalfLife), (Action)(() => _networks.TryRemove(n.Key, out _)))));
            var excess = total - _options.MaxTrackedEntries / 2;
            foreach (var (_, remove) in candidates.OrderBy(c => c.Failures).Take(excess))
            {
                remove();
            }
        }
    }

    /// <summary>A failure count that halves every half-life.</summary>
    private sealed class Score
    {
        private readonly Lock _lock = new();
        private double _value;
        private DateTimeOffset _at;

        public double Value(DateTimeOffset now, TimeSpan halfLife)
        {
            lock (_lock)
            {
                return ThrottlePolicy.Decayed(_value, _at, now, halfLife);
            }
        }

        public void Add(DateTimeOffset now, TimeSpan halfLife, int amount, double cap)
        {
            lock (_lock)
            {
                _value = Math.Clamp(ThrottlePolicy.Decayed(_value, _at, now, halfLife) + amount, 0, cap);
                _at = now;
            }
        }
    }

    private sealed class PairState
    {
        private readonly ulong[] _wrong = new ulong[RememberedWrongPasswords];
        private int _next;

        private int _inFlight;

        /// <summary>Recorded failures; attempts still being verified are <see cref="InFlight"/>.</summary>
        public Score Score { get; } = new();

        public int InFlight => Volatile.Read(ref _inFlight);

        public void Admit() => Interlocked.Increment(ref _inFlight);

        /// <summary>Never below zero: a pair replaced after a success may see releases of attempts admitted before.</summary>
        public void Release()
        {
            int current;
            do
            {
                current = Volatile.Read(ref _inFlight);
            }
            while (current > 0 && Interlocked.CompareExchange(ref _inFlight, current - 1, current) != current);
        }

        /// <summary>False when this wrong password was already seen for the pair recently.</summary>
        public bool RememberWrongPassword(ulong digest)
        {
            lock (_wrong)
            {
                if (Array.IndexOf(_wrong, digest) >= 0)
                {
                    return false;
                }
                _wrong[_next] = digest;
                _next = (_next + 1) % _wrong.Length;
                return true;
            }
        }
    }
}

/// <summary>
/// One login attempt as the mail throttle sees it, from <see cref="FailureThrottle.Admit"/> to its
/// outcome. An attempt that runs a verification of its own calls <see cref="TryStartVerification"/>
/// first: from then on it counts as a failure until it succeeds, so concurrent guesses cannot all
/// slip under a limit before the first of them fails. One that needs no verification of its own
/// (a cache hit, or one joining the same verification already running) just settles. Disposing a
/// started, unsettled ticket refunds it (the hashing pool was full, the client went away).
/// </summary>
public sealed class ThrottleTicket : IDisposable
{
    private readonly FailureThrottle? _throttle;
    private readonly IPAddress _network;
    private readonly string _address;
    private Stage _stage;

    internal ThrottleTicket(FailureThrottle? throttle, IPAddress network, string address, ThrottleDecision decision)
    {
        _throttle = throttle;
        _network = network;
        _address = address;
        Decision = decision;
        _stage = decision.Blocked ? Stage.Settled : Stage.Admitted;
    }

    /// <summary>An attempt from a trusted network: never blocked, never counted.</summary>
    internal static ThrottleTicket Unthrottled => new(null, IPAddress.None, "", ThrottleDecision.Allowed);

    private enum Stage
    {
        Admitted,
        Verifying,
        Settled,
    }

    public ThrottleDecision Decision { get; private set; }

    public bool Blocked => Decision.Blocked;

    /// <summary>An attempt from a trusted network, which no throttle holds back.</summary>
    internal bool IsUnthrottled => _throttle is null;

    /// <summary>The network logged in to the address recently, as far as this node remembers.</summary>
    internal bool KnownNetwork { get; init; }

    /// <summary>
    /// Counts this attempt as a failure in flight before its verification runs; false (and
    /// <see cref="Blocked"/>) when that would pass a limit, with the attempts already in flight.
    /// </summary>
    public bool TryStartVerification()
    {
        if (_stage != Stage.Admitted)
        {
            throw new InvalidOperationException("a verification can start once, on an admitted attempt");
        }
        if (_throttle is not null)
        {
            Decision = _throttle.Decide(_network, _address, charge: true);
            if (Decision.Blocked)
            {
                _stage = Stage.Settled;
                return false;
            }
        }
        _stage = Stage.Verifying;
        return true;
    }

    /// <summary>The password was right: any charge is refunded and the network is known to the address.</summary>
    public void Succeeded()
    {
        if (_stage == Stage.Settled)
        {
            throw new InvalidOperationException("the attempt is already settled");
        }
        _throttle?.Succeed(_network, _address, charged: _stage == Stage.Verifying);
        _stage = Stage.Settled;
    }

    /// <summary>
    /// The verification this attempt ran failed: it stays counted, and true; a repeated stale
    /// password counts once, so its repeats are refunded (false).
    /// </summary>
    public bool Failed(string password)
    {
        if (_stage != Stage.Verifying)
        {
            throw new InvalidOperationException("only an attempt that ran its own verification can fail");
        }
        _stage = Stage.Settled;
        return _throttle?.Fail(_network, _address, password) ?? true;
    }

    public void Dispose()
    {
        if (_stage == Stage.Verifying)
        {
            _throttle?.Refund(_network, _address);
        }
        _stage = Stage.Settled;
    }
}
