namespace MailAuth.Server.Smtp;

/// <summary>Where a submission session is; DATA is read inside its handler and ends in <see cref="Authenticated"/>.</summary>
internal enum SmtpState
{
    /// <summary>Greeted by us, no EHLO/HELO yet (also right after STARTTLS, RFC 3207 §4.2).</summary>
    Connected,

    /// <summary>EHLO/HELO done, not authenticated.</summary>
    Greeted,

    /// <summary>Authenticated, no transaction.</summary>
    Authenticated,

    /// <summary>MAIL accepted, no recipient yet.</summary>
    MailFrom,

    /// <summary>At least one RCPT accepted.</summary>
    Recipients,
}

/// <summary>What a handler reports; <see cref="SmtpStateTable.Next"/> says which state follows.</summary>
internal enum SmtpEvent
{
    /// <summary>EHLO or HELO accepted.</summary>
    Greeted,

    /// <summary>The STARTTLS handshake succeeded.</summary>
    TlsStarted,

    /// <summary>AUTH succeeded.</summary>
    LoggedIn,

    /// <summary>MAIL accepted.</summary>
    SenderAccepted,

    /// <summary>RCPT accepted.</summary>
    RecipientAccepted,

    /// <summary>The envelope was dropped: RSET, or DATA over (whatever its result).</summary>
    TransactionEnded,
}

/// <summary>
/// The commands allowed in each state, checked before any handler runs: a command not allowed
/// gets the refusal listed here (RFC 5321 §4.1.4: 503 bad sequence; 530 for MAIL before AUTH,
/// RFC 4954 §6).
/// </summary>
internal static class SmtpStateTable
{
    /// <summary>Verbs that are always allowed (RSET, NOOP, QUIT, VRFY, HELP; EHLO/HELO also reset a transaction, §4.1.4).</summary>
    private static readonly HashSet<string> Anytime = ["EHLO", "HELO", "RSET", "NOOP", "QUIT", "VRFY", "HELP"];

    /// <summary>Null when <paramref name="verb"/> may run in <paramref name="state"/>, else the reply to send instead.</summary>
    public static string? Refusal(SmtpState state, string verb)
    {
        if (Anytime.Contains(verb))
        {
            return null;
        }
        return (verb, state) switch
        {
            ("STARTTLS", SmtpState.Greeted) => null,
            ("STARTTLS", SmtpState.Connected) => SmtpReply.SendEhloFirst,
            ("STARTTLS", _) => SmtpReply.StartTlsAfterAuthentication,

            ("AUTH", SmtpState.Greeted) => null,
            ("AUTH", SmtpState.Connected) => SmtpReply.SendEhloFirst,
            ("AUTH", SmtpState.Authenticated) => SmtpReply.AlreadyAuthenticated,
            ("AUTH", _) => SmtpReply.AuthDuringTransaction,

            ("MAIL", SmtpState.Authenticated) => null,
            ("MAIL", SmtpState.Connected) => SmtpReply.SendEhloFirst,
            ("MAIL", SmtpState.Greeted) => SmtpReply.AuthenticationRequired,
            ("MAIL", _) => SmtpReply.NestedMail,

            ("RCPT", SmtpState.MailFrom or SmtpState.Recipients) => null,
            ("RCPT", SmtpState.Greeted) => SmtpReply.AuthenticationRequired,
            ("RCPT", _) => SmtpReply.NeedMailBeforeRcpt,

            ("DATA", SmtpState.Recipients) => null,
            // RFC 2920 §3.1: with PIPELINING, DATA after only refused RCPTs gets 554 (or 503).
            ("DATA", SmtpState.MailFrom) => SmtpReply.NoValidRecipients,
            ("DATA", SmtpState.Greeted) => SmtpReply.AuthenticationRequired,
            ("DATA", _) => SmtpReply.NeedRcptBeforeData,

            _ => SmtpReply.BadSequence,
        };
    }

    /// <summary>
    /// The state after <paramref name="happened"/> in <paramref name="state"/>. Only what the
    /// refusals above let happen is declared; anything else is a bug in a handler.
    /// </summary>
    public static SmtpState Next(SmtpState state, SmtpEvent happened) => (happened, state) switch
    {
        // A new greeting aborts the transaction but keeps the login (§4.1.4).
        (SmtpEvent.Greeted, SmtpState.Connected or SmtpState.Greeted) => SmtpState.Greeted,
        (SmtpEvent.Greeted, _) => SmtpState.Authenticated,

        // RFC 3207 §4.2: after the TLS handshake the client starts again from EHLO, knowing nothing.
        (SmtpEvent.TlsStarted, SmtpState.Greeted) => SmtpState.Connected,

        (SmtpEvent.LoggedIn, SmtpState.Greeted) => SmtpState.Authenticated,
        (SmtpEvent.SenderAccepted, SmtpState.Authenticated) => SmtpState.MailFrom,
        (SmtpEvent.RecipientAccepted, SmtpState.MailFrom or SmtpState.Recipients) => SmtpState.Recipients,

        // RSET is allowed anywhere; outside a transaction it changes nothing.
        (SmtpEvent.TransactionEnded, SmtpState.MailFrom or SmtpState.Recipients) => SmtpState.Authenticated,
        (SmtpEvent.TransactionEnded, _) => state,

        _ => throw new InvalidOperationException($"The SMTP state table declares no transition for {happened} in {state}"),
    };
}
