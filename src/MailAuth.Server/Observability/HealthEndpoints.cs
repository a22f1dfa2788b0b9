using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Observability;

/// <summary><c>/healthz</c> and <c>/readyz</c>, answered alike on the metrics port and on the web listener.</summary>
internal static class HealthEndpoints
{
    public static Task HealthzAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync("ok\n", context.RequestAborted);
    }

    public static async Task ReadyzAsync(HttpContext context, Readiness readiness)
    {
        var response = context.Response;
        response.ContentType = "text/plain; charset=utf-8";
        var problems = await readiness.ProblemsAsync(context.RequestAborted);
        response.StatusCode = problems.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        await response.WriteAsync(
            problems.Count == 0 ? "ready\n" : string.Concat(problems.Select(problem => problem + "\n")), context.RequestAborted);
    }
}
