using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Web.Pages;

/// <summary>The pages and what they hold, in the web listener's own services (<see cref="WebService"/>).</summary>
internal static class PageRegistration
{
    public const string AntiforgeryCookieName = "__Host-mailauth-form";

    public static IServiceCollection AddPages(this IServiceCollection services)
    {
        // Antiforgery tokens only need to outlive a page view, and sessions live in memory anyway:
        // keys in memory, so that no key file is written and a restart simply asks for a reload.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = AntiforgeryCookieName;
            antiforgery.Cookie.Path = "/";
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.HttpOnly = true;
            antiforgery.FormFieldName = "csrf-token";
            // Forms only: no header token for scripts (there are none).
            antiforgery.HeaderName = null;
            // Framing is refused for every response by the listener's CSP and X-Frame-Options: DENY.
            antiforgery.SuppressXFrameOptionsHeader = true;
        });
        services.AddSingleton<PageForms>();
        services.AddSingleton<ManagerSessions>();
        services.AddSingleton<ResetLink>();
        services.AddSingleton<TwoFactorEnrolmentSeal>();
        services.AddSingleton<MailboxTestPage>();
        services.AddSingleton<MailboxPasswordPage>();
        services.AddSingleton<LoginPage>();
        services.AddSingleton<AccountPage>();
        services.AddSingleton<ManagedMailboxPasswordPage>();
        services.AddSingleton<AccountPasswordPage>();
        services.AddSingleton<ForgotLoginPage>();
        services.AddSingleton<RecoveryPage>();
        services.AddSingleton<AccountTwoFactorPage>();
        services.AddSingleton<ForgotPasswordPage>();
        services.AddSingleton<ResetPasswordPage>();
        return services;
    }
}
