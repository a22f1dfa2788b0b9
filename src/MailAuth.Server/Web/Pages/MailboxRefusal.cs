using MailAuth.Server.Sasl;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// Why a mailbox page refuses a pair: one message and one status for an unknown address and a wrong
/// password (and a throttled attempt, which the authenticator reports as a failure), another for busy.
/// </summary>
internal sealed record MailboxRefusal(int Status, string Message)
{
    public const string AlertId = "form-error";

    public static MailboxRefusal? Of(SaslLoginOutcome outcome) => outcome switch
    {
        SaslLoginOutcome.Succeeded => null,
        SaslLoginOutcome.Busy => new(StatusCodes.Status503ServiceUnavailable, "The server is too busy to check the password now. Try again in a moment."),
        _ => new(StatusCodes.Status403Forbidden, "The address or the password is wrong."),
    };
}
