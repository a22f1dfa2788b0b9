using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace MailAuth.Core.Authentication;

public readonly record struct ThrottleDecision(bool Blocked, TimeSpan Delay, string? Limit)
{
    public static readonly ThrottleDecision Allowed = new(false, TimeSpan.Zero, null);
}

/// <summary>What the throttle holds about one key, for <c>throttle list</c>.</summary>
public sealed record ThrottleEntry(string Kind, string Key, double Failures, int Limit, bool Blocked);

/// <summary>
/// Counts failed logins, in memory, per (network, address), per address and per network (an
/// IPv4 address or IPv6 /64), with a half-life instead of a fixed window. Past a limit, attempts
/// are refused before any Argon2 work, after a delay that doubles with each further attempt.
/// Unlike a per-IP ban, a network that recently logged in to an address keeps reaching that
/// address through the address and network limits, so people behind one NAT with an attacker
/// keep working; and a client retrying the same stale wrong password counts once.
/// </summary>
public sealed class FailureThrottle
{
    private const int RememberedWrongPasswords = 4;
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);

    private readonly ThrottleOptions _options;
    private readonly IPNetwork[] _trusted;
    private readonly TimeProvider _clock;
    private readonly byte[] _digestKey = RandomNumberGenerator.GetBytes(32);
    private readonly Lock _evictionLock = new();
    private readonly ConcurrentDictionary<(IPAddress Network, string Address), PairState> _pairs = new();
    private readonly ConcurrentDictionary<string, Score> _addresses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, Score> _networks = new();
    private readonly ConcurrentDictionary<(IPAddress Network, string Address), DateTimeOffset> _successes = new();

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
    }

    /// <summary>
    /// Decides before any password work whether this attempt may be verified at all. An admitted
    /// attempt is charged as a failure at once and refunded if it succeeds, so that concurrent
    /// attempts cannot all slip under a limit before the first of them fails.
    /// </summary>
    public ThrottleDecision Check(IPAddress remote, string address, bool trustable = true) => Decide(remote, address, admit: true, trustable);

    /// <summary>
    /// The same decision without admitting the attempt: for one that will not run a verification
    /// of its own (a cache hit, or one joining the same verification already running).
    /// </summary>
    public ThrottleDecision Peek(IPAddress remote, string address, bool trustable = true) => Decide(remote, address, admit: false, trustable);

    private ThrottleDecision Decide(IPAddress remote, string address, bool admit, bool trustable)
    {
        if (trustable && IsTrusted(remote))
        {
            return ThrottleDecision.Allowed;
        }
        var network = ClientNetwork.Of(remote);
        var now = _clock.GetUtcNow();
        MakeRoom();
        var (pair, perAddress, perNetwork) = Entries(remote, address);
        var exempt = RecentlySucceeded(network, address, now);
        // A pair that logged in recently is not held back by its own parallel logins (a client
        // opening six connections at once); its failures still count.
        if (Reached(pair.Score.Value(now, HalfLife) + (exempt ? 0 : pair.InFlight), _options.PairFailures))
        {
            return Block(pair.Score, _options.PairFailures, "address from this network", now);
        }
        if (!exempt && Reached(perAddress.Value(now, HalfLife), _options.AddressFailures))
        {
            return Block(perAddress, _options.AddressFailures, "address", now);
        }
        if (!exempt && Reached(perNetwork.Value(now, HalfLife), _options.NetworkFailures))
        {
            return Block(perNetwork, _options.NetworkFailures, "network", now);
        }
        if (admit)
        {
            pair.Admit();
            Charge(perAddress, perNetwork, now, +1);
        }
        return ThrottleDecision.Allowed;
    }

    /// <summary>An admitted attempt failed: it stays charged, unless it repeated a wrong password already counted.</summary>
    public void RecordFailure(IPAddress remote, string address, string password, bool trustable = true)
    {
        if (trustable && IsTrusted(remote))
        {
            return;
        }
        var (pair, perAddress, perNetwork) = Entries(remote, address);
        pair.Release();
        if (pair.RememberWrongPassword(WrongPasswordDigest(password)))
        {
            pair.Score.Add(_clock.GetUtcNow(), HalfLife, 1, cap: 4.0 * _options.PairFailures);
        }
        else
        {
            // The same stale password again (a phone retrying): it taught the client nothing new.
            Charge(perAddress, perNetwork, _clock.GetUtcNow(), -1);
        }
    }

    /// <summary>An admitted attempt succeeded: its charge is refunded and the network is known to the address.</summary>
    public void RecordSuccess(IPAddress remote, string address, bool trustable = true)
    {
        RecordAbandoned(remote, address, trustable);
        MarkSucceeded(remote, address);
    }

    /// <summary>A success that was never admitted (see <see cref="Peek"/>): the network is known to the address.</summary>
    public void MarkSucceeded(IPAddress remote, string address)
    {
        var network = ClientNetwork.Of(remote);
        _successes[(network, address)] = _clock.GetUtcNow();
        _pairs.TryRemove((network, address), out _);
    }

    /// <summary>An admitted attempt that was never verified (the hashing pool was full): its charge is refunded.</summary>
    public void RecordAbandoned(IPAddress remote, string address, bool trustable = true)
    {
        if (!(trustable && IsTrusted(remote)))
        {
            var (pair, perAddress, perNetwork) = Entries(remote, address);
            pair.Release();
            Charge(perAddress, perNetwork, _clock.GetUtcNow(), -1);
        }
    }

    private (PairState Pair, Score PerAddress, Score PerNetwork) Entries(IPAddress remote, string address)
    {
        var network = ClientNetwork.Of(remote);
        return (
            _pairs.GetOrAdd((network, address), _ => new PairState()),
            _addresses.GetOrAdd(address, _ => new Score()),
            _networks.GetOrAdd(network, _ => new Score()));
    }

    private void Charge(Score perAddress, Score perNetwork, DateTimeOffset now, int amount)
    {
        perAddress.Add(now, HalfLife, amount, cap: 4.0 * _options.AddressFailures);
        perNetwork.Add(now, HalfLife, amount, cap: 4.0 * _options.NetworkFailures);
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
            new(kind, key, Math.Round(failures, 2), limit, Reached(failures, limit));
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

    private TimeSpan HalfLife => TimeSpan.FromSeconds(_options.HalfLifeSeconds);

    /// <summary>Counts fade continuously, so five failures in a row score 4.99…: a limit is reached within half a failure of it.</summary>
    private static bool Reached(double failures, int limit) => failures > limit - 0.5;

    private bool IsTrusted(IPAddress remote)
    {
        var address = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        return _trusted.Any(network => network.Contains(address));
    }

    private bool RecentlySucceeded(IPAddress network, string address, DateTimeOffset now) =>
        _successes.TryGetValue((network, address), out var at) && now - at < TimeSpan.FromHours(_options.RecentSuccessHours);

    /// <summary>Over the limit: this attempt counts too (so a client hammering stays blocked) and waits longer.</summary>
    private ThrottleDecision Block(Score score, int limit, string what, DateTimeOffset now)
    {
        var over = score.Value(now, HalfLife) - limit;
        score.Add(now, HalfLife, 1, cap: 4.0 * limit);
        var delay = FirstDelay * Math.Pow(2, Math.Min(over, 16));
        var max = TimeSpan.FromSeconds(_options.MaxDelaySeconds);
        return new ThrottleDecision(true, delay < max ? delay : max, what);
    }

    private ulong WrongPasswordDigest(string password)
    {
        Span<byte> digest = stackalloc byte[32];
        HMACSHA256.HashData(_digestKey, Encoding.UTF8.GetBytes(password), digest);
        return BitConverter.ToUInt64(digest);
    }

    /// <summary>
    /// Keeps memory bounded whatever an attacker varies: past the limit, the entries with the
    /// fewest failures go until half the room is free (blocked entries, the highest, stay).
    /// </summary>
    private void MakeRoom()
    {
        if (_pairs.Count + _addresses.Count + _networks.Count + _successes.Count < _options.MaxTrackedEntries)
        {
            return;
        }
        lock (_evictionLock)
        {
            var total = _pairs.Count + _addresses.Count + _networks.Count + _successes.Count;
            if (total < _options.MaxTrackedEntries)
            {
                return;
            }
            var now = _clock.GetUtcNow();
            foreach (var (key, at) in _successes)
            {
                if (now - at >= TimeSpan.FromHours(_options.RecentSuccessHours))
                {
                    _successes.TryRemove(key, out _);
                }
            }
            var candidates = new List<(double Failures, Action Remove)>(total);
            candidates.AddRange(_pairs.Select(p => (p.Value.Score.Value(now, HalfLife), (Action)(() => _pairs.TryRemove(p.Key, out _)))));
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
                return Decayed(now, halfLife);
            }
        }

        public void Add(DateTimeOffset now, TimeSpan halfLife, int amount, double cap)
        {
            lock (_lock)
            {
                _value = Math.Clamp(Decayed(now, halfLife) + amount, 0, cap);
                _at = now;
            }
        }

        private double Decayed(DateTimeOffset now, TimeSpan halfLife) =>
            _value == 0 ? 0 : _value * Math.Pow(0.5, Math.Max(0, (now - _at) / halfLife));
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
