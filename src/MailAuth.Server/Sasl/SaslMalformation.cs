namespace MailAuth.Server.Sasl;

/// <summary>What was wrong with a client's SASL message; each protocol words its reply from this, not from the text.</summary>
internal enum SaslMalformedReason
{
    /// <summary>The initial response (SASL-IR, RFC 4954 AUTH argument, Dovecot <c>resp=</c>) was not base64, or was "*".</summary>
    InitialResponseNotBase64,

    /// <summary>A reply to a challenge was not base64.</summary>
    ResponseNotBase64,

    /// <summary>More challenge rounds than any offered mechanism needs.</summary>
    TooManyRounds,

    /// <summary>Well-formed base64 whose content breaks the mechanism (no NULs in PLAIN, another authorization identity).</summary>
    RefusedByMechanism,
}

/// <summary>A malformed SASL exchange: the typed reason, and a description safe to show the client (it is about syntax, never the account).</summary>
internal sealed record SaslMalformation(SaslMalformedReason Reason, string Description)
{
    public static SaslMalformation InitialResponseNotBase64 { get; } = new(SaslMalformedReason.InitialResponseNotBase64, "invalid base64 in the initial response");

    public static SaslMalformation ResponseNotBase64 { get; } = new(SaslMalformedReason.ResponseNotBase64, "invalid base64");

    public static SaslMalformation TooManyRounds { get; } = new(SaslMalformedReason.TooManyRounds, "too many SASL rounds");

    public static SaslMalformation RefusedByMechanism(string description) => new(SaslMalformedReason.RefusedByMechanism, description);
}
