namespace MailAuth.Core.Authentication;

public readonly record struct ThrottleDecision(bool Blocked, TimeSpan Delay, string? Limit)
{
    public static readonly ThrottleDecision Allowed = new(false, TimeSpan.Zero, null);
}

/// <summary>What a throttle holds about one key, for <c>throttle list</c>; <paramref name="Shared"/>: kept in the store for every node.</summary>
public sealed record ThrottleEntry(string Kind, string Key, double Failures, int Limit, bool Blocked, bool Shared = false);

/// <summary>
/// The arithmetic every throttle shares: failure scores that halve every half-life instead of a
/// fixed window, limits reached within half a failure, and an answer delay that doubles with each
/// attempt over a limit.
/// </summary>
internal static class ThrottlePolicy
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);

    /// <summary><paramref name="value"/> recorded at <paramref name="at"/>, faded to <paramref name="now"/>.</summary>
    public static double Decayed(double value, DateTimeOffset at, DateTimeOffset now, TimeSpan halfLife) =>
        value == 0 ? 0 : value * Math.Pow(0.5, Math.Max(0, (now - at) / halfLife));

    /// <summary>Counts fade continuously, so five failures in a row score 4.99…: a limit is reached within half a failure of it.</summary>
    public static bool Reached(double failures, int limit) => failures > limit - 0.5;

    /// <summary>Scores stop growing at four times their limit, so a blocked key is free again a few half-lives after the attack stops.</summary>
    public static double Cap(int limit) => 4.0 * limit;

    /// <summary>The refusal for an attempt <paramref name="over"/> a limit: the delay doubles with each attempt, up to the maximum.</summary>
    public static ThrottleDecision Block(double over, TimeSpan maxDelay, string limit)
    {
        var delay = FirstDelay * Math.Pow(2, Math.Clamp(over, 0, 16));
        return new ThrottleDecision(true, delay < maxDelay ? delay : maxDelay, limit);
    }
}
