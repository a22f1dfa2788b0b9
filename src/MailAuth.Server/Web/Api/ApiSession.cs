using System.Net.Http.Headers;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using MailAuth.Server.Web.Pages;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Api;

/// <summary>
/// The manager API's sessions: a bearer token (<c>Authorization: Bearer …</c>, RFC 6750) naming a
/// session of <see cref="ManagerSessions"/>, the pages' own, so the same lifetimes apply (30 idle
/// minutes, 12 hours), only its hash is kept, and it ends at logout and whenever the account's
/// password, 2FA or identifier changes anywhere. A token is never accepted from a cookie or a URL.
/// </summary>
internal sealed class ApiSession(ManagerSessions sessions, ManagerAccountService accounts)
{
    /// <summary>The logged-in account and its token, or null once 401 has been answered.</summary>
    public async Task<(ManagerAccount Account, string Token)?> RequireAsync(HttpContext context)
    {
        if (BearerToken(context.Request) is { } token && sessions.Current(token) is { } session)
        {
            if (await sessions.AccountAsync(session, accounts, context.RequestAborted) is { } account)
            {
                return (account, token);
            }
            sessions.End(token);
        }
        // RFC 6750 §3: the scheme to use, and invalid_token when one was given.
        context.Response.Headers.WWWAuthenticate = BearerToken(context.Request) is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        await ApiAnswer.RefusedAsync(context, CredentialRefusal.FailedCredentials,
            "log in first: the session token is missing, unknown, expired, or ended by a logout or a credential change");
        return null;
    }

    /// <summary>Starts a session (as a page login does) and answers its token; 503 when the session table is full.</summary>
    public Task StartAsync(HttpContext context, ManagerAccount account) =>
        sessions.Start(account.Identifier, account.CredentialVersion) is { } token
            ? ApiAnswer.OkAsync(context, new
            {
                result = "ok",
                identifier = account.Identifier,
                token,
                tokenType = "Bearer",
                idleTimeoutSeconds = (long)ManagerSessions.IdleLifetime.TotalSeconds,
                maxLifetimeSeconds = (long)ManagerSessions.AbsoluteLifetime.TotalSeconds,
            })
            : ApiAnswer.RefusedAsync(context, CredentialRefusal.Busy, "the server cannot open more sessions now; log in again in a moment");

    public void End(string token) => sessions.End(token);

    /// <summary>Ends every session of the account (pages and API): its credentials changed.</summary>
    public void EndAll(string identifier) => sessions.EndAll(identifier);

    private static string? BearerToken(HttpRequest request) =>
        AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
        && string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)
        && !string.IsNullOrEmpty(header.Parameter)
            ? header.Parameter
            : null;
}
