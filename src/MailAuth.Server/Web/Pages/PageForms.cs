using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// The antiforgery side of every form: a token for each form shown, and a posted form accepted only
/// with a valid token and its cookie (both <c>__Host-</c>, <c>Secure; HttpOnly; SameSite=Strict</c>:
/// <see cref="PageRegistration"/>). A form without them is refused with a page saying to reload.
/// </summary>
internal sealed class PageForms(IAntiforgery antiforgery)
{
    public FormToken TokenFor(HttpContext context)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return new FormToken(tokens.FormFieldName, tokens.RequestToken!);
    }

    /// <summary>The posted form, or null once the refusal has been sent (no token, a wrong one, not a form).</summary>
    public async Task<IFormCollection?> ReadAsync(HttpContext context)
    {
        if (context.Request.HasFormContentType && await antiforgery.IsRequestValidAsync(context))
        {
            return await context.Request.ReadFormAsync(context.RequestAborted);
        }
        await new HtmlPage("Form refused")
            .Heading("This form was not accepted")
            .Alert("form-error", "The form expired or did not come from this site's page. Go back, reload the page and send it again.")
            .Link("/", "Start page")
            .WriteAsync(context, StatusCodes.Status400BadRequest);
        return null;
    }

    /// <summary>A posted field, trimmed of nothing (passwords keep their spaces), or empty when absent.</summary>
    public static string Field(IFormCollection form, string name) => form[name].Count == 1 ? form[name][0] ?? "" : "";
}
