using MailAuth.Server.Smtp;
using MailAuth.Server.Smtp.Delivery;

namespace MailAuth.Server.Lmtp;

/// <summary>
/// Every reply the LMTP server sends (RFC 2033, enhanced codes RFC 3463), without the CRLF. The
/// argument syntax replies are <see cref="SmtpReply"/>'s, since the commands are SMTP's.
/// </summary>
internal static class LmtpReply
{
    public const string Ok = SmtpReply.Ok;
    public const string SenderOk = SmtpReply.SenderOk;
    public const string RecipientOk = SmtpReply.RecipientOk;
    public const string StartMailInput = SmtpReply.StartMailInput;

    public const string ShuttingDown = SmtpReply.ShuttingDown;
    public const string IdleTimeout = SmtpReply.IdleTimeout;
    public const string InternalErrorClosing = SmtpReply.InternalErrorClosing;

    public const string InternalError = SmtpReply.InternalError;
    public const string InsufficientStorage = SmtpReply.InsufficientStorage;

    /// <summary>
    /// RFC 3463 §3.4 X.3.0, transient: the mailbox database failed, so whether the recipient exists
    /// is not known; never a 5xx, the MTA keeps the message and tries again.
    /// </summary>
    public const string StoreUnavailable = "451 4.3.0 Mailbox database unavailable, try again later";
    public const string TooManyRecipients = SmtpReply.TooManyRecipients;

    public const string LineTooLong = SmtpReply.LineTooLong;
    public const string CommandNotUtf8 = SmtpReply.CommandNotUtf8;
    public const string CommandUnrecognized = SmtpReply.CommandUnrecognized;
    public const string UseLhlo = "500 5.5.1 This is LMTP (RFC 2033): use LHLO";
    public const string SyntaxLhlo = "501 5.5.4 Syntax: LHLO hostname";
    public const string SyntaxData = SmtpReply.SyntaxData;
    public const string BadRecipientAddress = SmtpReply.BadRecipientAddress;

    public const string SendLhloFirst = "503 5.5.1 Send LHLO first";
    public const string NestedMail = SmtpReply.NestedMail;
    public const string NeedMailBeforeRcpt = SmtpReply.NeedMailBeforeRcpt;

    /// <summary>RFC 2033 §4.2: DATA with no accepted recipient fails with 503.</summary>
    public const string NeedRcptBeforeData = SmtpReply.NeedRcptBeforeData;

    public const string NoSuchMailbox = SmtpReply.NoSuchMailbox;

    /// <summary>RFC 3463 §3.3 X.2.1: the mailbox exists but takes no mail; permanent, as for submission.</summary>
    public const string MailboxDisabled = SmtpReply.MailboxDisabled;

    /// <summary>RFC 3463 §3.2 X.1.2: the domain is not one this server holds mailboxes for.</summary>
    public const string DomainNotHosted = "550 5.1.2 Recipient address rejected: domain not hosted here";

    /// <summary>The refusal for a recipient that is not a mailbox taking mail; null for one that is.</summary>
    public static string? RefusalFor(RecipientKind kind) => kind switch
    {
        RecipientKind.LocalMailbox => null,
        RecipientKind.DisabledMailbox => MailboxDisabled,
        RecipientKind.UnknownLocalMailbox => NoSuchMailbox,
        _ => DomainNotHosted,
    };

    public const string MessageTooLarge = SmtpReply.MessageTooLarge;
    public const string NonAsciiSender = SmtpReply.NonAsciiSender;
    public const string NonAsciiRecipient = SmtpReply.NonAsciiRecipient;

    public static string Greeting(string hostName) => $"220 {hostName} LMTP MailAuth ready";

    public static string Closing(string hostName) => $"221 2.0.0 {hostName} closing connection";

    public static string LhloGreeting(string hostName) => $"250-{hostName}";

    public static string Extension(string extension, bool last) => SmtpReply.EhloExtension(extension, last);

    /// <summary>One recipient's reply after DATA (RFC 2033 §4.2).</summary>
    public static string Delivered(string id, string recipient) => $"250 2.0.0 <{recipient}> {id} Saved";
}
