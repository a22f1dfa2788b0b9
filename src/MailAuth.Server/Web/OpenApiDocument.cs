using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web;

/// <summary>
/// <c>GET /api/v1/openapi.json</c>: the OpenAPI 3.1 description of every route of <see cref="Api.ApiRoutes"/>
/// (the mailbox holder's and the manager account's), a file written by hand (<c>Web/openapi.json</c>,
/// embedded in the program) and kept true by a test that compares it with that table both ways and
/// calls every operation it lists. Served on HTTPS only, like the rest of the API.
/// </summary>
internal static class OpenApiDocument
{
    public const string Path = "/api/v1/openapi.json";

    private static readonly byte[] Document = Load();

    public static Task AnswerAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = Document.Length;
        return context.Response.Body.WriteAsync(Document, context.RequestAborted).AsTask();
    }

    private static byte[] Load()
    {
        using var stream = typeof(OpenApiDocument).Assembly.GetManifestResourceStream("MailAuth.Server.Web.openapi.json")
            ?? throw new InvalidOperationException("the embedded OpenAPI document is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
