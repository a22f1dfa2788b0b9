using MailAuth.Core;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Api;

/// <summary>
/// The manager API's refusals: <c>{"result", "message"}</c> with the status of
/// <see cref="RefusalAnswer"/> (and its <c>Retry-After</c>), <c>result</c> naming the kind.
/// </summary>
internal static class ApiAnswer
{
    public static Task RefusedAsync(HttpContext context, CredentialRefusal refusal, string message, TimeSpan? retryAfter = null) =>
        WebAnswers.JsonAsync(context, RefusalAnswer.Prepare(context, refusal, api: true, retryAfter), new { result = Result(refusal), message });

    public static Task RefusedAsync(HttpContext context, CredentialOperationException refusal) =>
        RefusedAsync(context, refusal.Refusal, refusal.Message, refusal.RetryAfter);

    public static Task OkAsync(HttpContext context, object body) => WebAnswers.JsonAsync(context, StatusCodes.Status200OK, body);

    /// <summary>The <c>result</c> word of each kind of refusal, as the OpenAPI document lists them.</summary>
    public static string Result(CredentialRefusal refusal) => refusal switch
    {
        CredentialRefusal.FailedCredentials => "failed",
        CredentialRefusal.NotAllowed => "notAllowed",
        CredentialRefusal.NotFound => "notFound",
        CredentialRefusal.Conflict => "conflict",
        CredentialRefusal.Throttled => "throttled",
        CredentialRefusal.Busy => "unavailable",
        _ => "invalid",
    };
}
