using System.Diagnostics;
using MailAuth.Core.Authentication;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Imap.Commands;

/// <summary>What an IMAP session does after a login reply, besides sending it.</summary>
internal enum ImapLoginEffect
{
    None,

    /// <summary>One more failed login: at the limit the connection ends with BYE.</summary>
    CountFailure,

    /// <summary>The exchange cannot go on: the connection ends without a reply.</summary>
    Close,
}

/// <summary>The tagged reply to a login outcome (null: none), and what follows it.</summary>
internal readonly record struct ImapLoginReply(string? Line, ImapLoginEffect Effect);

/// <summary>Shared by LOGIN and AUTHENTICATE: the answers of RFC 5530, the failure limit.</summary>
internal static class ImapLogin
{
    /// <summary>False (after answering NO [PRIVACYREQUIRED]) when passwords may not cross this connection in clear.</summary>
    public static bool CheckPrivacy(ImapSession session, string tag)
    {
        if (session.AllowsPlaintextAuthentication)
        {
            return true;
        }
        session.Write($"{tag} NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) before logging in\r\n");
        return false;
    }

    public static ClientContext Client(ImapSession session, string mechanism) =>
        new(LoginChannel.Imap, mechanism, session.Connection.RemoteAddress, session.Connection.IsSecure);

    /// <summary>Logs the session in on success, then answers the outcome.</summary>
    public static async Task AnswerAsync(ImapSession session, string tag, SaslLoginOutcome outcome, CancellationToken cancellationToken)
    {
        if (outcome is SaslLoginOutcome.Succeeded succeeded
            && !await session.LoggedInAsync(succeeded.Address, succeeded.ChangeLogPosition, cancellationToken))
        {
            return;
        }
        var reply = Reply(outcome, tag, session.Capabilities);
        if (reply.Line is not null)
        {
            session.Write(reply.Line);
        }
        switch (reply.Effect)
        {
            case ImapLoginEffect.CountFailure:
                Failed(session);
                break;
            case ImapLoginEffect.Close:
                session.Closing = true;
                break;
        }
    }

    /// <summary>The reply table; <paramref name="capabilities"/> is read only after a successful login.</summary>
    public static ImapLoginReply Reply(SaslLoginOutcome outcome, string tag, Func<string> capabilities) => outcome switch
    {
        SaslLoginOutcome.Succeeded => new($"{tag} OK [CAPABILITY {capabilities()}] Logged in\r\n", ImapLoginEffect.None),
        SaslLoginOutcome.Busy => new($"{tag} NO [UNAVAILABLE] The server is busy, try again shortly\r\n", ImapLoginEffect.None),
        SaslLoginOutcome.Failed => new($"{tag} NO [AUTHENTICATIONFAILED] Authentication failed\r\n", ImapLoginEffect.CountFailure),
        SaslLoginOutcome.Cancelled => new($"{tag} BAD Authentication cancelled\r\n", ImapLoginEffect.None),
        SaslLoginOutcome.Malformed { Malformation.Reason: SaslMalformedReason.InitialResponseNotBase64 } =>
            new($"{tag} BAD Invalid base64 in the initial response\r\n", ImapLoginEffect.None),
        SaslLoginOutcome.Malformed malformed => new($"{tag} BAD {malformed.Malformation.Description}\r\n", ImapLoginEffect.None),
        SaslLoginOutcome.LineTooLong or SaslLoginOutcome.Disconnected => new(null, ImapLoginEffect.Close),
        _ => throw new UnreachableException($"no IMAP reply for {outcome}"),
    };

    /// <summary>Counts a failure; at the limit the connection ends with BYE.</summary>
    public static void Failed(ImapSession session)
    {
        if (++session.FailedAuthentications >= session.Options.MaxFailedAuthentications)
        {
            session.Write("* BYE Too many failed logins\r\n");
            session.Closing = true;
        }
    }
}
