using MailAuth.Server.Hosting;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// The reset page's absolute address for the links that password-reset requests send (the page's
/// and the API's alike): <c>MailAuth:Web:PublicUrl</c> when set, else the server's own name
/// (<c>Smtp:HostName</c>) and web port. Never the request's Host header: a client chooses that, and
/// a reset asked with a forged one would send the owner a link to another site.
/// </summary>
internal sealed class ResetLink(WebOptions web, MailServerSettings server)
{
    public Uri Page() => web.PublicUrl.Length > 0
        ? new Uri(web.PublicUrl.TrimEnd('/') + ResetPasswordPage.Path)
        : new UriBuilder(Uri.UriSchemeHttps, server.HostName, web.Port == 443 ? -1 : web.Port, ResetPasswordPage.Path).Uri;
}
