namespace MailAuth.Server.Smtp;

/// <summary>
/// Every reply the submission server sends (RFC 5321 §4.2, enhanced codes RFC 3463), without the
/// CRLF. Grouped by code; a reply whose text varies is a method.
/// </summary>
internal static class SmtpReply
{
    // 2xx: done.
    public const string ReadyToStartTls = "220 2.0.0 Ready to start TLS";
    public const string HelpCommands = "214-2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP VRFY HELP QUIT";
    public const string HelpLogin = "214 2.0.0 Log in with your full mailbox address and its password";
    public const string AuthenticationSuccessful = "235 2.7.0 Authentication successful";
    public const string Ok = "250 2.0.0 OK";
    public const string SenderOk = "250 2.1.0 Sender OK";
    public const string RecipientOk = "250 2.1.5 Recipient OK";

    public const string CannotVerify = "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery";

    // 3xx: go on.
    public const string StartMailInput = "354 Start mail input; end with <CRLF>.<CRLF>";

    // 421: the connection closes (RFC 5321 §3.8).
    public const string ShuttingDown = "421 4.3.2 Service shutting down, closing connection";
    public const string TooManyConnections = "421 4.7.0 Too many connections from your address";
    public const string IdleTimeout = "421 4.4.2 Idle timeout, closing connection";
    public const string TooManyCommandsBeforeLogin = "421 4.7.0 Too many commands before authentication, closing connection";
    public const string LineTooLongBeforeLogin = "421 4.7.0 Line too long before authentication, closing connection";
    public const string AuthenticationLineTooLong = "421 4.7.0 Authentication exchange line is too long, closing connection";
    public const string TooManyFailedAuthentications = "421 4.7.0 Too many failed authentications, closing connection";
    public const string InternalErrorClosing = "421 4.3.0 Internal server error, closing connection";

    // 4xx: try again later.
    public const string InternalError = "451 4.3.0 Internal server error, try again later";
    public const string InsufficientStorage = "452 4.3.1 Insufficient system storage";
    public const string InsufficientStorageNotAccepted = "452 4.3.1 Insufficient system storage, message not accepted";
    public const string TooManyRecipients = "452 4.5.3 Too many recipients";
    public const string TemporaryAuthenticationFailure = "454 4.7.0 Temporary authentication failure";

    // 500-504: the command itself.
    public const string LineTooLong = "500 5.5.2 Line too long";
    public const string CommandNotUtf8 = "500 5.5.2 Command is not valid UTF-8";
    public const string CommandUnrecognized = "500 5.5.1 Command unrecognized";
    public const string SyntaxEhlo = "501 5.5.4 Syntax: EHLO hostname";
    public const string SyntaxHelo = "501 5.5.4 Syntax: HELO hostname";
    public const string SyntaxStartTls = "501 5.5.4 Syntax: STARTTLS";
    public const string SyntaxAuth = "501 5.5.4 Syntax: AUTH mechanism [initial-response]";
    public const string SyntaxMailFrom = "501 5.5.4 Syntax: MAIL FROM:<address>";
    public const string SyntaxRcptTo = "501 5.5.4 Syntax: RCPT TO:<address>";
    public const string SyntaxData = "501 5.5.4 Syntax: DATA";
    public const string SyntaxVrfy = "501 5.5.4 Syntax: VRFY address";
    public const string InvalidSizeParameter = "501 5.5.4 Invalid SIZE parameter";
    public const string BadSenderAddress = "501 5.1.7 Bad sender address syntax";
    public const string BadRecipientAddress = "501 5.1.3 Bad recipient address syntax";
    public const string AuthenticationCancelled = "501 5.7.0 Authentication cancelled";
    public const string InvalidBase64 = "501 5.5.2 Invalid base64 data";
    public const string UnrecognizedMechanism = "504 5.5.4 Unrecognized authentication mechanism";

    // 503: bad sequence (RFC 5321 §4.1.4), from the state table.
    public const string BadSequence = "503 5.5.1 Bad sequence of commands";
    public const string SendEhloFirst = "503 5.5.1 Send EHLO first";
    public const string StartTlsAfterAuthentication = "503 5.5.1 STARTTLS is not allowed after authentication";
    public const string TlsAlreadyActive = "503 5.5.1 TLS is already active";
    public const string AlreadyAuthenticated = "503 5.5.1 Already authenticated";
    public const string AuthDuringTransaction = "503 5.5.1 AUTH is not allowed during a mail transaction";
    public const string NestedMail = "503 5.5.1 Nested MAIL command";
    public const string NeedMailBeforeRcpt = "503 5.5.1 Need MAIL before RCPT";
    public const string NeedRcptBeforeData = "503 5.5.1 Need RCPT before DATA";

    // 53x: authentication (RFC 4954 §6).
    public const string AuthenticationRequired = "530 5.7.0 Authentication required";
    public const string AuthenticationInvalid = "535 5.7.8 Authentication credentials invalid";
    public const string EncryptionRequired = "538 5.7.11 Encryption required for requested authentication mechanism";

    // 55x: refused for good.
    public const string NoSuchMailbox = "550 5.1.1 Recipient address rejected: no such mailbox";
    public const string MailboxDisabled = "550 5.2.1 Recipient address rejected: mailbox disabled";

    /// <summary>
    /// RFC 3463 §3.3 X.2.2 "mailbox full", permanent (5.x.x: the MTA bounces at once rather than
    /// retrying for days; the holder must delete mail first). 552 is RFC 5321's "exceeded storage allocation".
    /// </summary>
    public static string MailboxFull(string recipient) => $"552 5.2.2 <{recipient}> Mailbox full: over its storage quota";
    public const string RelayingDenied = "550 5.7.1 Relaying denied";
    public const string MessageTooLarge = "552 5.3.4 Message size exceeds fixed maximum message size";
    public const string NullSenderRefused = "553 5.7.1 Sender address rejected: the null sender is not accepted for submission";
    public const string SenderNotOwned = "553 5.7.1 Sender address rejected: not owned by the authenticated user";
    public const string NonAsciiSender = "553 5.6.7 Non-ASCII sender address requires SMTPUTF8";
    public const string NonAsciiRecipient = "553 5.6.7 Non-ASCII recipient address requires SMTPUTF8";
    public const string RecipientGoneSinceRcpt = "554 5.1.1 A recipient's mailbox was removed or disabled after RCPT; nothing was delivered";
    public const string NoValidRecipients = "554 5.5.1 No valid recipients";
    public const string UnsupportedBody = "555 5.5.4 Unsupported BODY type";

    public static string Greeting(string hostName) => $"220 {hostName} ESMTP MailAuth";

    public static string Closing(string hostName) => $"221 2.0.0 {hostName} closing connection";

    public static string HeloGreeting(string hostName) => $"250 {hostName}";

    /// <summary>The first line of the EHLO reply; <paramref name="clientName"/> is already made printable.</summary>
    public static string EhloGreeting(string hostName, string clientName, System.Net.IPAddress remote) => $"250-{hostName} Hello {clientName} [{remote}]";

    /// <summary>One extension line of the EHLO reply: "250 " on the last, "250-" before it.</summary>
    public static string EhloExtension(string extension, bool last) => (last ? "250 " : "250-") + extension;

    public static string MessageAccepted(string id) => $"250 2.0.0 Message accepted as {id}";

    public static string AuthChallenge(string base64) => "334 " + base64;

    /// <summary>The session's mailbox was ended (its credential changed, or an admin ended its sessions).</summary>
    public static string SessionEnded(string reason) => $"421 4.7.0 {reason}, closing connection";

    public static string RelayTemporaryFailure(string detail) => $"451 4.4.1 Message not accepted, try again later: {detail}";

    public static string RelayRefused(string detail) => $"554 5.4.0 Message refused: {detail}";

    /// <summary><paramref name="keyword"/> is already made printable.</summary>
    public static string UnsupportedMailParameter(string keyword) => $"555 5.5.4 Unsupported MAIL parameter {keyword}";

    /// <summary><paramref name="keyword"/> is already made printable.</summary>
    public static string UnsupportedRcptParameter(string keyword) => $"555 5.5.4 Unsupported RCPT parameter {keyword}";
}
