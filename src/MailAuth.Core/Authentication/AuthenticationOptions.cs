namespace MailAuth.Core.Authentication;

/// <summary>The <c>MailAuth:Authentication</c> section: the verified-login cache and failure throttling.</summary>
public sealed class AuthenticationOptions
{
    /// <summary>
    /// How long a verified address/password pair is remembered (as a keyed digest, in memory only)
    /// so that reconnects skip Argon2; 0 turns the cache off. Every login still checks that the
    /// mailbox's credential has not changed since.
    /// </summary>
    public int VerifiedLoginCacheSeconds { get; set; } = 300;

    public TimeSpan VerifiedLoginCacheTime => TimeSpan.FromSeconds(VerifiedLoginCacheSeconds);

    /// <summary>Networks (CIDR) never throttled, e.g. webmail or monitoring hosts.</summary>
    public string[] TrustedNetworks { get; set; } = [];

    public ThrottleOptions Throttle { get; set; } = new();

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (VerifiedLoginCacheSeconds is < 0 or > 86_400)
        {
            errors.Add($"MailAuth:Authentication:VerifiedLoginCacheSeconds must be between 0 (off) and 86400, not {VerifiedLoginCacheSeconds}");
        }
        foreach (var network in TrustedNetworks)
        {
            if (!System.Net.IPNetwork.TryParse(network, out _))
            {
                errors.Add($"MailAuth:Authentication:TrustedNetworks: '{network}' is not a network like 192.0.2.0/24");
            }
        }
        errors.AddRange(Throttle.Validate());
        return errors;
    }
}

/// <summary>Failure thresholds; each default says why. Failures fade with a half-life, they are not a fixed window.</summary>
public sealed class ThrottleOptions
{
    /// <summary>Failures of one address from one network: a person mistyping needs three or four.</summary>
    public int PairFailures { get; set; } = 5;

    /// <summary>Failures of one address from all networks: slow distributed guessing against one mailbox.</summary>
    public int AddressFailures { get; set; } = 20;

    /// <summary>Failures from one network over all addresses: password spraying.</summary>
    public int NetworkFailures { get; set; } = 30;

    /// <summary>Time for a failure to count half as much; a blocked client is free again after a few of these.</summary>
    public int HalfLifeSeconds { get; set; } = 600;

    public TimeSpan HalfLife => TimeSpan.FromSeconds(HalfLifeSeconds);

    /// <summary>A network that logged in to an address within this time keeps reaching it despite the address and network limits.</summary>
    public int RecentSuccessHours { get; set; } = 7 * 24;

    public TimeSpan RecentSuccess => TimeSpan.FromHours(RecentSuccessHours);

    /// <summary>The longest answer delay for a throttled attempt (the delay doubles with each attempt over the limit).</summary>
    public int MaxDelaySeconds { get; set; } = 15;

    public TimeSpan MaxDelay => TimeSpan.FromSeconds(MaxDelaySeconds);

    /// <summary>Bounds the throttle's memory whatever an attacker varies (addresses, IPv6 networks): the failure counters and, apart, the recent successes.</summary>
    public int MaxTrackedEntries { get; set; } = 200_000;

    public IEnumerable<string> Validate()
    {
        foreach (var (key, value) in new[]
        {
            ("PairFailures", PairFailures), ("AddressFailures", AddressFailures), ("NetworkFailures", NetworkFailures),
            ("HalfLifeSeconds", HalfLifeSeconds), ("RecentSuccessHours", RecentSuccessHours), ("MaxTrackedEntries", MaxTrackedEntries),
        })
        {
            if (value < 1)
            {
                yield return $"MailAuth:Authentication:Throttle:{key} must be at least 1, not {value}";
            }
        }
        // TimeSpan.FromHours throws beyond this (about 29,000 years).
        if (RecentSuccessHours > (int)TimeSpan.MaxValue.TotalHours)
        {
            yield return $"MailAuth:Authentication:Throttle:RecentSuccessHours must be at most {(int)TimeSpan.MaxValue.TotalHours}, not {RecentSuccessHours}";
        }
        if (MaxDelaySeconds < 0)
        {
            yield return $"MailAuth:Authentication:Throttle:MaxDelaySeconds must be 0 or more, not {MaxDelaySeconds}";
        }
    }
}
