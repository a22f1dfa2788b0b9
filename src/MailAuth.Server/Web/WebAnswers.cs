using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web;

/// <summary>The plain-text and JSON answers the web endpoints share.</summary>
internal static class WebAnswers
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Also the answer for a domain not hosted here, so that it says nothing more than "no".</summary>
    public static Task NotFoundAsync(HttpContext context) => TextAsync(context, StatusCodes.Status404NotFound, "not found\n");

    public static Task TextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    public static Task JsonAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Json), context.RequestAborted);
    }
}
