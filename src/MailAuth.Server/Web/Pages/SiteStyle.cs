using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// The pages' one style sheet, served as a file: the Content-Security-Policy allows styles from this
/// origin only, never inline. One column, readable from a phone's width up; focus always visible.
/// </summary>
internal static class SiteStyle
{
    public const string Path = "/site.css";

    private const string Css = """
        :root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --accent: #0b57a4; --bad: #a4161a; --good: #1b6e34; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f7f9; }
        header { background: var(--accent); padding: .75rem 1rem; }
        header a { color: #fff; font-weight: 600; text-decoration: none; }
        main { max-width: 34rem; margin: 0 auto; padding: 1rem; background: #fff; min-height: 100vh; }
        h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
        h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
        a { color: var(--accent); }
        .field { margin: 0 0 1rem; }
        label { display: block; font-weight: 600; margin-bottom: .25rem; }
        input[type=text], input[type=email], input[type=password] { width: 100%; padding: .6rem; font: inherit; border: 1px solid #767676; border-radius: 4px; }
        .checkbox { display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; }
        .checkbox label { display: inline; flex: 1 1 0; min-width: 0; }
        .checkbox .hint, .checkbox .error { flex-basis: 100%; }
        input[aria-invalid=true] { border-color: var(--bad); border-width: 2px; }
        :focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
        button { font: inherit; font-weight: 600; padding: .6rem 1.2rem; border: 0; border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
        .hint { color: var(--muted); margin: 0 0 .25rem; font-size: .9rem; }
        .error { color: var(--bad); margin: 0 0 .25rem; font-weight: 600; }
        .alert { border-left: 4px solid var(--bad); padding: .5rem .75rem; background: #fdecea; }
        .success { border-left: 4px solid var(--good); padding: .5rem .75rem; background: #e9f6ec; }
        .choices { list-style: none; padding: 0; }
        .choices li { margin: 0 0 1rem; }
        .choices a { font-weight: 600; display: block; }
        .choices span { color: var(--muted); }
        .table { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
        caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
        th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
        td { overflow-wrap: anywhere; }
        """;

    public static Task AnswerAsync(HttpContext context)
    {
        context.Response.ContentType = "text/css; charset=utf-8";
        context.Response.Headers.CacheControl = "public, max-age=3600";
        return context.Response.WriteAsync(Css, context.RequestAborted);
    }
}
