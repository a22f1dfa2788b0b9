using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using MailAuth.Server.Web.Pages;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Api;

/// <summary>
/// The manager account's JSON API, sessions and reading: login (issue 16's third flow), logout, the
/// account's mailboxes with what it may do, and the recovery login (the eighth). Each calls the Core
/// service the page and the CLI call, on the same throttle, with the same single answer for an
/// unknown identifier and a wrong password.
/// </summary>
internal sealed class ManagerApi(ManagerAccountService accounts, ApiSession session, ApiLog log)
{
    public const string LoginPath = "/api/v1/account/login";
    public const string LogoutPath = "/api/v1/account/logout";
    public const string AccountPath = "/api/v1/account";
    public const string RecoveryPath = "/api/v1/account/recovery";

    /// <summary><c>{"identifier", "password", "totp"?}</c> → a session token.</summary>
    public async Task LoginAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["identifier", "password"], ["totp"]) is not { } body)
        {
            return;
        }
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        var login = await accounts.LoginAsync(body["identifier"], body["password"], body.Optional("totp"), client, context.RequestAborted);
        switch (login.Status)
        {
            case AccountLoginStatus.Succeeded:
                await session.StartAsync(context, await accounts.ShowAsync(login.Identifier!, context.RequestAborted));
                return;
            case AccountLoginStatus.MustCompleteRecovery:
                await WebAnswers.JsonAsync(context, StatusCodes.Status403Forbidden, new
                {
                    result = "recoveryRequired",
                    message = "this is a recovery username: choose a new login identifier with POST " + RecoveryPath,
                });
                return;
            case AccountLoginStatus.TemporarilyUnavailable:
                await ApiAnswer.RefusedAsync(context, CredentialRefusal.Busy, "the server is too busy to verify now; try again shortly");
                return;
            case AccountLoginStatus.Throttled:
                await ApiAnswer.RefusedAsync(context, CredentialRefusal.Throttled, "too many failed attempts for this identifier or from this address; try again later");
                return;
            default:
                await ApiAnswer.RefusedAsync(context, CredentialRefusal.FailedCredentials, "the login identifier, the password or the 2FA code is wrong");
                return;
        }
    }

    /// <summary><c>{}</c> with the bearer token → the session ends.</summary>
    public async Task LogoutAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, []) is null || await session.RequireAsync(context) is not { } current)
        {
            return;
        }
        session.End(current.Token);
        await ApiAnswer.OkAsync(context, new { result = "loggedOut" });
    }

    /// <summary>The account, its mailboxes, what it may do with each, and where unification is offered (or which condition fails).</summary>
    public async Task AccountAsync(HttpContext context)
    {
        if (await session.RequireAsync(context) is not { } current)
        {
            return;
        }
        var account = current.Account;
        var mailboxes = new List<object>();
        foreach (var grant in account.Grants)
        {
            var unified = grant.Mailbox == account.UnifiedMailbox;
            var conditions = unified ? null : await accounts.EvaluateUnificationAsync(account.Identifier, grant.Mailbox.ToString(), context.RequestAborted);
            mailboxes.Add(new
            {
                address = grant.Mailbox.ToString(),
                canChangePassword = grant.CanChangePassword,
                unified,
                unificationOffered = conditions?.AllHold ?? false,
                unificationFailedConditions = conditions?.Failed ?? [],
            });
        }
        await ApiAnswer.OkAsync(context, new
        {
            result = "ok",
            identifier = account.Identifier,
            name = account.Name,
            twoFactorEnabled = account.TwoFactorEnabled,
            mailboxes,
            unificationExplanation = UnificationText.Explanation,
        });
    }

    /// <summary>
    /// <c>{"recoveryUsername", "password", "totp"?, "newIdentifier"}</c> → the new identifier is set
    /// and a session starts, as after a login.
    /// </summary>
    public async Task RecoveryAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["recoveryUsername", "password", "newIdentifier"], ["totp"]) is not { } body)
        {
            return;
        }
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        ManagerAccount account;
        try
        {
            var chosen = await accounts.CompleteRecoveryAsync(body["recoveryUsername"], body["password"], body.Optional("totp"), body["newIdentifier"],
                client, context.RequestAborted);
            account = await accounts.ShowAsync(chosen.ToString(), context.RequestAborted);
        }
        catch (CredentialOperationException e)
        {
            await ApiAnswer.RefusedAsync(context, e);
            return;
        }
        log.Change("recovery", account.Identifier, client, "new identifier chosen");
        await session.StartAsync(context, account);
    }
}
