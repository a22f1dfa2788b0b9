using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using MailAuth.Server.Web.Pages;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Api;

/// <summary>
/// The API for a forgotten password (issue 16's sixth flow: request, then reset with the token) and a
/// forgotten login identifier (the seventh). Requests answer the same whether or not an account
/// matched; only a malformed request or the request limits (per name and per network, alike for
/// known and unknown ones) refuse.
/// </summary>
internal sealed class ForgottenApi(ManagerAccountService accounts, ApiSession session, ResetLink link, ApiLog log)
{
    public const string ForgotPasswordPath = "/api/v1/account/forgot-password";
    public const string ResetPath = "/api/v1/account/reset";
    public const string ForgotLoginPath = "/api/v1/account/forgot-login";

    /// <summary><c>{"identifier"}</c> → a single-use link to the reset page goes to the secondary email and phone (the token is the link's).</summary>
    public async Task ForgotPasswordAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["identifier"]) is not { } body)
        {
            return;
        }
        if (body["identifier"].Trim().Length == 0)
        {
            await ApiAnswer.RefusedAsync(context, CredentialRefusal.InvalidInput, "give the login identifier");
            return;
        }
        try
        {
            await accounts.RequestPasswordResetAsync(body["identifier"].Trim(), context.Connection.RemoteIpAddress ?? IPAddress.IPv6None, link.Page(),
                context.RequestAborted);
        }
        catch (CredentialOperationException e)
        {
            await ApiAnswer.RefusedAsync(context, e);
            return;
        }
        await ApiAnswer.OkAsync(context, new
        {
            result = "requested",
            message = "if this account exists, a single-use link was sent to its secondary email and phone",
            tokenLifetimeSeconds = (long)ManagerAccountService.ResetTokenLifetime.TotalSeconds,
        });
    }

    /// <summary><c>{"token", "newPassword", "totp"?}</c>: the token is used once; every session of the account ends.</summary>
    public async Task ResetAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["token", "newPassword"], ["totp"]) is not { } body)
        {
            return;
        }
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        string identifier;
        EmailAddress? unified;
        try
        {
            (identifier, unified) = await accounts.CompletePasswordResetAsync(body["token"], body["newPassword"], body.Optional("totp"), context.RequestAborted, client);
        }
        catch (CredentialOperationException e)
        {
            await ApiAnswer.RefusedAsync(context, e);
            return;
        }
        session.EndAll(identifier);
        log.Change("reset", identifier, client, "changed");
        await ApiAnswer.OkAsync(context, new
        {
            result = "changed",
            alsoChanged = unified is null ? Array.Empty<string>() : [unified.ToString()],
            sessionsEnded = true,
        });
    }

    /// <summary><c>{"phone"}</c> → the identifier of each account with that number goes to the phone and the secondary email, never into the answer.</summary>
    public async Task ForgotLoginAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["phone"]) is not { } body)
        {
            return;
        }
        try
        {
            await accounts.SendLoginIdentifierAsync(body["phone"], context.Connection.RemoteIpAddress ?? IPAddress.IPv6None, context.RequestAborted);
        }
        catch (CredentialOperationException e)
        {
            await ApiAnswer.RefusedAsync(context, e);
            return;
        }
        await ApiAnswer.OkAsync(context, new
        {
            result = "sent",
            message = "if an account has this phone number, its login identifier was sent to that phone and to its secondary email",
        });
    }
}
