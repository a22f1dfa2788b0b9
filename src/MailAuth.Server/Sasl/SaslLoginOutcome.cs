using MailAuth.Core.Addresses;

namespace MailAuth.Server.Sasl;

/// <summary>
/// How a login through SASL (or a plain username and password) ended. Closed: the cases below are
/// all there are, and each front end maps them to its own reply.
/// </summary>
internal abstract record SaslLoginOutcome
{
    private SaslLoginOutcome()
    {
    }

    /// <summary>Verified; <paramref name="ChangeLogPosition"/> is that of the verified credential (see <see cref="Core.Authentication.AuthenticationResult"/>).</summary>
    public sealed record Succeeded(EmailAddress Address, long ChangeLogPosition) : SaslLoginOutcome;

    /// <summary>Unknown address, wrong password, disabled or throttled: one answer for all of them.</summary>
    public sealed record Failed : SaslLoginOutcome;

    /// <summary>The server is too busy to verify now; the client should retry.</summary>
    public sealed record Busy : SaslLoginOutcome;

    /// <summary>The client aborted the exchange ("*", RFC 4422 §3.5).</summary>
    public sealed record Cancelled : SaslLoginOutcome;

    public sealed record Malformed(SaslMalformation Malformation) : SaslLoginOutcome;

    /// <summary>A client line was longer than the protocol allows.</summary>
    public sealed record LineTooLong : SaslLoginOutcome;

    /// <summary>The client went away or timed out in the middle of the exchange.</summary>
    public sealed record Disconnected : SaslLoginOutcome;
}

/// <summary>One step of an exchange driven a message at a time: a challenge to send, or the end.</summary>
internal readonly record struct SaslLoginStep(byte[]? Challenge, SaslLoginOutcome? Outcome)
{
    public static SaslLoginStep Ask(byte[] challenge) => new(challenge, null);

    public static SaslLoginStep End(SaslLoginOutcome outcome) => new(null, outcome);
}
