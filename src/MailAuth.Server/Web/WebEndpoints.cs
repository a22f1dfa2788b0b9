using MailAuth.Server.Hosting;
using MailAuth.Server.Observability;
using MailAuth.Server.Tls.Acme;
using MailAuth.Server.Web.Api;
using MailAuth.Server.Web.Pages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Web;

/// <summary>
/// Every path the web listener answers, in one table, and the few of them also answered over plain
/// HTTP (<see cref="ServedOverPlainHttp"/>); a path that is not here is 404, and on plain HTTP every
/// other request is redirected to HTTPS. Paths match without regard to case (Outlook's
/// <c>/Autodiscover/Autodiscover.xml</c>).
/// </summary>
internal static class WebEndpoints
{
    /// <summary>RFC 8555 §8.3: the ACME server fetches <c>http://DOMAIN/.well-known/acme-challenge/TOKEN</c> on port 80.</summary>
    public const string AcmeChallengePrefix = "/.well-known/acme-challenge/";

    /// <summary>What a client fetches over plain HTTP: Thunderbird's first autoconfig try, and ACME HTTP-01 challenges.</summary>
    public static bool ServedOverPlainHttp(PathString path) =>
        path.Equals(MozillaAutoconfig.WellKnownPath, StringComparison.OrdinalIgnoreCase)
        || path.Equals(MozillaAutoconfig.AutoconfigHostPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(AcmeChallengePrefix.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    public static void Map(IEndpointRouteBuilder routes, MailAuthOptions options)
    {
        var services = routes.ServiceProvider;
        var domains = services.GetRequiredService<HostedDomainLookup>();
        var settings = services.GetRequiredService<MailServerSettings>();
        var api = services.GetRequiredService<MailboxApi>();
        var clock = services.GetRequiredService<TimeProvider>();

        // Client set-up (issue 19).
        routes.MapGet(MozillaAutoconfig.WellKnownPath, context => MozillaAutoconfig.AnswerAsync(context, domains, settings));
        routes.MapGet(MozillaAutoconfig.AutoconfigHostPath, context => MozillaAutoconfig.AnswerAsync(context, domains, settings));
        routes.MapMethods(OutlookAutodiscover.Path, [HttpMethods.Get, HttpMethods.Post],
            context => OutlookAutodiscover.AnswerAsync(context, domains, settings, clock));
        routes.MapGet(AppleProfile.Path, api.AppleProfileAsync);

        // The JSON API (issue 16): the mailbox holder's and the manager account's, one table (Web/Api/ApiRoutes.cs).
        ApiRoutes.Map(routes);
        routes.MapGet(OpenApiDocument.Path, OpenApiDocument.AnswerAsync);

        // The pages of issue 16: HTML forms, no script (Web/Pages/).
        routes.MapGet(SiteStyle.Path, SiteStyle.AnswerAsync);
        routes.MapGet(HomePage.Path, HomePage.GetAsync);
        routes.MapGet(MailboxTestPage.Path, services.GetRequiredService<MailboxTestPage>().GetAsync);
        routes.MapPost(MailboxTestPage.Path, services.GetRequiredService<MailboxTestPage>().PostAsync);
        routes.MapGet(MailboxPasswordPage.Path, services.GetRequiredService<MailboxPasswordPage>().GetAsync);
        routes.MapPost(MailboxPasswordPage.Path, services.GetRequiredService<MailboxPasswordPage>().PostAsync);
        routes.MapGet(LoginPage.Path, services.GetRequiredService<LoginPage>().GetAsync);
        routes.MapPost(LoginPage.Path, services.GetRequiredService<LoginPage>().PostAsync);
        routes.MapPost(LoginPage.LogoutPath, services.GetRequiredService<LoginPage>().LogoutAsync);
        routes.MapGet(AccountPage.Path, services.GetRequiredService<AccountPage>().GetAsync);
        routes.MapGet(ManagedMailboxPasswordPage.Path, services.GetRequiredService<ManagedMailboxPasswordPage>().GetAsync);
        routes.MapPost(ManagedMailboxPasswordPage.Path, services.GetRequiredService<ManagedMailboxPasswordPage>().PostAsync);
        routes.MapGet(AccountPasswordPage.Path, services.GetRequiredService<AccountPasswordPage>().GetAsync);
        routes.MapPost(AccountPasswordPage.Path, services.GetRequiredService<AccountPasswordPage>().PostAsync);
        routes.MapGet(ForgotLoginPage.Path, services.GetRequiredService<ForgotLoginPage>().GetAsync);
        routes.MapPost(ForgotLoginPage.Path, services.GetRequiredService<ForgotLoginPage>().PostAsync);
        routes.MapGet(RecoveryPage.Path, services.GetRequiredService<RecoveryPage>().GetAsync);
        routes.MapPost(RecoveryPage.Path, services.GetRequiredService<RecoveryPage>().PostAsync);
        routes.MapGet(AccountTwoFactorPage.Path, services.GetRequiredService<AccountTwoFactorPage>().GetAsync);
        routes.MapPost(AccountTwoFactorPage.Path, services.GetRequiredService<AccountTwoFactorPage>().PostAsync);
        routes.MapGet(ForgotPasswordPage.Path, services.GetRequiredService<ForgotPasswordPage>().GetAsync);
        routes.MapPost(ForgotPasswordPage.Path, services.GetRequiredService<ForgotPasswordPage>().PostAsync);
        routes.MapGet(ResetPasswordPage.Path, services.GetRequiredService<ResetPasswordPage>().GetAsync);
        routes.MapPost(ResetPasswordPage.Path, services.GetRequiredService<ResetPasswordPage>().PostAsync);

        // ACME HTTP-01 challenges (let through on plain HTTP by ServedOverPlainHttp).
        routes.MapAcmeHttpChallenges();

        if (options.Metrics.Enabled && options.Metrics.Port == 0)
        {
            // /metrics itself is the exporter's middleware (WebService).
            var readiness = services.GetRequiredService<Readiness>();
            routes.MapGet("/healthz", HealthEndpoints.HealthzAsync);
            routes.MapGet("/readyz", context => HealthEndpoints.ReadyzAsync(context, readiness));
        }
        routes.MapFallback(WebAnswers.NotFoundAsync);
    }
}
