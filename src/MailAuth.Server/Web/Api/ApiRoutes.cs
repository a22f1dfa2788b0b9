using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Web.Api;

/// <summary>A route of the JSON API: its method, path and handler (taken from the web listener's services).</summary>
internal sealed record ApiRoute(string Method, string Path, Func<IServiceProvider, RequestDelegate> Handler);

/// <summary>
/// Every route of the JSON API under <c>/api/v1/</c>, in one table that <see cref="Map"/> maps and
/// that a test compares with the OpenAPI document both ways (<c>Web/openapi.json</c>).
/// </summary>
internal static class ApiRoutes
{
    public static readonly IReadOnlyList<ApiRoute> All =
    [
        // The mailbox holder's (issue 16's first and second flows).
        new(HttpMethods.Post, MailboxApi.TestPath, s => s.GetRequiredService<MailboxApi>().TestAsync),
        new(HttpMethods.Post, MailboxApi.PasswordPath, s => s.GetRequiredService<MailboxApi>().ChangePasswordAsync),

        // The manager account's (the third to the ninth).
        new(HttpMethods.Post, ManagerApi.LoginPath, s => s.GetRequiredService<ManagerApi>().LoginAsync),
        new(HttpMethods.Post, ManagerApi.LogoutPath, s => s.GetRequiredService<ManagerApi>().LogoutAsync),
        new(HttpMethods.Get, ManagerApi.AccountPath, s => s.GetRequiredService<ManagerApi>().AccountAsync),
        new(HttpMethods.Post, ManagerApi.RecoveryPath, s => s.GetRequiredService<ManagerApi>().RecoveryAsync),
        new(HttpMethods.Post, AccountChangesApi.MailboxPasswordPath, s => s.GetRequiredService<AccountChangesApi>().MailboxPasswordAsync),
        new(HttpMethods.Post, AccountChangesApi.PasswordPath, s => s.GetRequiredService<AccountChangesApi>().PasswordAsync),
        new(HttpMethods.Post, AccountChangesApi.TwoFactorEnrolPath, s => s.GetRequiredService<AccountChangesApi>().TwoFactorEnrolAsync),
        new(HttpMethods.Post, AccountChangesApi.TwoFactorConfirmPath, s => s.GetRequiredService<AccountChangesApi>().TwoFactorConfirmAsync),
        new(HttpMethods.Post, AccountChangesApi.TwoFactorDisablePath, s => s.GetRequiredService<AccountChangesApi>().TwoFactorDisableAsync),
        new(HttpMethods.Post, ForgottenApi.ForgotPasswordPath, s => s.GetRequiredService<ForgottenApi>().ForgotPasswordAsync),
        new(HttpMethods.Post, ForgottenApi.ResetPath, s => s.GetRequiredService<ForgottenApi>().ResetAsync),
        new(HttpMethods.Post, ForgottenApi.ForgotLoginPath, s => s.GetRequiredService<ForgottenApi>().ForgotLoginAsync),
    ];

    public static void Map(IEndpointRouteBuilder routes)
    {
        foreach (var route in All)
        {
            routes.MapMethods(route.Path, [route.Method], route.Handler(routes.ServiceProvider));
        }
    }

    /// <summary>The API's services, in the web listener's own container beside the pages' (sessions, reset link, 2FA seal).</summary>
    public static IServiceCollection AddManagerApi(this IServiceCollection services)
    {
        services.AddSingleton<ApiSession>();
        services.AddSingleton<ApiLog>();
        services.AddSingleton<ManagerApi>();
        services.AddSingleton<AccountChangesApi>();
        services.AddSingleton<ForgottenApi>();
        return services;
    }
}
