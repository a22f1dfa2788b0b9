using System.Globalization;
using MailAuth.Core;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web;

/// <summary>
/// The one mapping of Core's refusal kinds to HTTP, for the pages and the JSON API alike: malformed
/// 400, failed credentials 401 on the API (a page re-renders its form with its single message, 403,
/// as for any refused pair), not allowed 403, not found 404, conflict 409, throttled 429 and busy
/// 503, the last two with <c>Retry-After</c>.
/// </summary>
internal static class RefusalAnswer
{
    /// <summary>A busy hashing pool drains in moments.</summary>
    public static readonly TimeSpan BusyRetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>Login throttles count failures over minutes; a client told to wait less would only be delayed again.</summary>
    public static readonly TimeSpan ThrottledRetryAfter = TimeSpan.FromMinutes(1);

    public static int Status(CredentialRefusal reason, bool api) => reason switch
    {
        CredentialRefusal.FailedCredentials => api ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden,
        CredentialRefusal.NotAllowed => StatusCodes.Status403Forbidden,
        CredentialRefusal.NotFound => StatusCodes.Status404NotFound,
        CredentialRefusal.Conflict => StatusCodes.Status409Conflict,
        CredentialRefusal.Throttled => StatusCodes.Status429TooManyRequests,
        CredentialRefusal.Busy => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    };

    /// <summary>Sets <c>Retry-After</c> for a throttled or busy refusal (Core's own wait when it knows one) and returns the status.</summary>
    public static int Prepare(HttpContext context, CredentialRefusal reason, bool api, TimeSpan? retryAfter = null)
    {
        if (reason is CredentialRefusal.Throttled or CredentialRefusal.Busy)
        {
            var wait = retryAfter ?? (reason == CredentialRefusal.Busy ? BusyRetryAfter : ThrottledRetryAfter);
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
        return Status(reason, api);
    }

    public static int Prepare(HttpContext context, CredentialOperationException refusal, bool api) =>
        Prepare(context, refusal.Refusal, api, refusal.RetryAfter);
}
