using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// A server-rendered page: every text and attribute value goes through the HTML encoder, the only
/// style is <see cref="SiteStyle.Path"/> and there is no script, so the strict Content-Security-Policy
/// (<see cref="WebService"/>) holds. Forms work without JavaScript; each carries the antiforgery token.
/// </summary>
internal sealed class HtmlPage(string title)
{
    /// <summary>Letters of every script stay readable in the source; markup characters are always encoded.</summary>
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private readonly StringBuilder _main = new();

    public static string Encode(string text) => Encoder.Encode(text);

    public HtmlPage Heading(string text) => Append($"<h1>{Encode(text)}</h1>");

    public HtmlPage Subheading(string text) => Append($"<h2>{Encode(text)}</h2>");

    public HtmlPage Paragraph(string text) => Append($"<p>{Encode(text)}</p>");

    /// <summary>A refusal of the whole form, announced by screen readers; fields name it in <see cref="FormField.DescribedBy"/>.</summary>
    public HtmlPage Alert(string id, string text) => Append($"<p class=\"alert\" id=\"{Encode(id)}\" role=\"alert\">{Encode(text)}</p>");

    public HtmlPage Success(string text) => Append($"<p class=\"success\" role=\"status\">{Encode(text)}</p>");

    /// <summary>A QR code of <paramref name="text"/> as inline SVG (<see cref="QrCodeSvg"/>), described by <paramref name="label"/>.</summary>
    public HtmlPage QrCode(string text, string label) => Append($"<p>{QrCodeSvg.Render(text, label)}</p>");

    public HtmlPage Link(string href, string text) => Append($"<p><a href=\"{Encode(href)}\">{Encode(text)}</a></p>");

    /// <summary>A list of links, each with a line saying what it is for.</summary>
    public HtmlPage Choices(params (string Href, string Text, string Note)[] choices)
    {
        _main.Append("<ul class=\"choices\">");
        foreach (var (href, text, note) in choices)
        {
            _main.Append($"<li><a href=\"{Encode(href)}\">{Encode(text)}</a><span>{Encode(note)}</span></li>");
        }
        return Append("</ul>");
    }

    public HtmlPage Table(string caption, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        _main.Append($"<div class=\"table\"><table><caption>{Encode(caption)}</caption><thead><tr>");
        foreach (var header in headers)
        {
            _main.Append($"<th scope=\"col\">{Encode(header)}</th>");
        }
        _main.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            _main.Append("<tr>");
            foreach (var cell in row)
            {
                _main.Append($"<td>{Encode(cell)}</td>");
            }
            _main.Append("</tr>");
        }
        return Append("</tbody></table></div>");
    }

    /// <summary>A POST form to <paramref name="action"/> with the antiforgery token <paramref name="token"/>.</summary>
    public HtmlPage Form(string action, FormToken token, string submit, params FormField[] fields)
    {
        _main.Append($"<form method=\"post\" action=\"{Encode(action)}\" novalidate>");
        _main.Append($"<input type=\"hidden\" name=\"{Encode(token.FieldName)}\" value=\"{Encode(token.Value)}\">");
        foreach (var field in fields)
        {
            AppendField(field);
        }
        return Append($"<button type=\"submit\">{Encode(submit)}</button></form>");
    }

    private void AppendField(FormField field)
    {
        var name = Encode(field.Name);
        if (field.Kind == FieldKind.Hidden)
        {
            _main.Append($"<input type=\"hidden\" name=\"{name}\" id=\"{name}\" value=\"{Encode(field.Value ?? "")}\">");
            return;
        }
        var described = new List<string>();
        if (field.Hint is not null)
        {
            described.Add(field.Name + "-hint");
        }
        if (field.Error is not null)
        {
            described.Add(field.Name + "-error");
        }
        if (field.DescribedBy is not null)
        {
            described.Add(field.DescribedBy);
        }
        var attributes = new StringBuilder($" name=\"{name}\" id=\"{name}\"");
        if (described.Count > 0)
        {
            attributes.Append($" aria-describedby=\"{Encode(string.Join(' ', described))}\"");
        }
        if (field.Error is not null || field.DescribedBy is not null)
        {
            attributes.Append(" aria-invalid=\"true\"");
        }
        var checkbox = field.Kind == FieldKind.Checkbox;
        _main.Append(checkbox ? "<div class=\"field checkbox\">" : "<div class=\"field\">");
        if (checkbox)
        {
            _main.Append($"<input type=\"checkbox\" value=\"true\"{attributes}{(field.Value == "true" ? " checked" : "")}>");
        }
        _main.Append($"<label for=\"{name}\">{Encode(field.Label)}</label>");
        if (field.Hint is not null)
        {
            _main.Append($"<p class=\"hint\" id=\"{name}-hint\">{Encode(field.Hint)}</p>");
        }
        if (field.Error is not null)
        {
            _main.Append($"<p class=\"error\" id=\"{name}-error\">{Encode(field.Error)}</p>");
        }
        if (!checkbox)
        {
            var (type, extra) = field.Kind switch
            {
                FieldKind.Email => ("email", " inputmode=\"email\" spellcheck=\"false\" autocapitalize=\"off\""),
                FieldKind.Password => ("password", ""),
                FieldKind.OneTimeCode => ("text", " inputmode=\"numeric\" pattern=\"[0-9]*\" maxlength=\"6\""),
                _ => ("text", " spellcheck=\"false\" autocapitalize=\"off\""),
            };
            // A password is never written back into a page.
            var value = field.Kind == FieldKind.Password || field.Value is null ? "" : $" value=\"{Encode(field.Value)}\"";
            _main.Append($"<input type=\"{type}\"{attributes} autocomplete=\"{Encode(field.Autocomplete)}\"{extra}{value}{(field.Required ? " required" : "")}>");
        }
        _main.Append("</div>");
    }

    /// <summary>Sends the page; never cached, since it may show a mailbox's settings or an account.</summary>
    public Task WriteAsync(HttpContext context, int status = StatusCodes.Status200OK)
    {
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append($"<title>{Encode(title)} · MailAuth</title>")
            .Append($"<link rel=\"stylesheet\" href=\"{SiteStyle.Path}\"></head><body>")
            .Append("<header><a href=\"/\">MailAuth</a></header><main id=\"main\">")
            .Append(_main)
            .Append("</main></body></html>\n")
            .ToString();
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        return response.WriteAsync(html, context.RequestAborted);
    }

    private HtmlPage Append(string html)
    {
        _main.Append(html);
        return this;
    }
}

/// <summary>The hidden field that carries a form's antiforgery token.</summary>
internal readonly record struct FormToken(string FieldName, string Value);
