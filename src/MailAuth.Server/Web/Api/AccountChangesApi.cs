using System.Net;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using MailAuth.Server.Web.Pages;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Api;

/// <summary>
/// What a logged-in account changes through the API (bearer token): a mailbox password with the
/// unification offer (issue 16's fourth flow), its own password (the fifth), 2FA (the ninth). The
/// same Core calls as the pages; every change that touches the account's own credentials ends every
/// session of the account, the API's and the pages'.
/// </summary>
internal sealed class AccountChangesApi(ManagerAccountService accounts, ApiSession session, TwoFactorEnrolmentSeal seal, ApiLog log)
{
    public const string MailboxPasswordPath = "/api/v1/account/mailbox-password";
    public const string PasswordPath = "/api/v1/account/password";
    public const string TwoFactorEnrolPath = "/api/v1/account/2fa/enrol";
    public const string TwoFactorConfirmPath = "/api/v1/account/2fa/confirm";
    public const string TwoFactorDisablePath = "/api/v1/account/2fa/disable";

    /// <summary>
    /// <c>{"mailbox", "newPassword", "unify"?}</c>: <c>unify</c> accepts the offer, which stands
    /// exactly when Core's three conditions hold; asked where one fails, 409 names the failing ones.
    /// </summary>
    public async Task MailboxPasswordAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["mailbox", "newPassword"], flags: ["unify"]) is not { } body
            || await session.RequireAsync(context) is not { } current)
        {
            return;
        }
        var account = current.Account;
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        // Only the account's own mailboxes, asked before Core: nothing says whether another address exists.
        if (account.Grants.FirstOrDefault(grant => string.Equals(grant.Mailbox.ToString(), body["mailbox"].Trim(), StringComparison.OrdinalIgnoreCase)) is not { } grant)
        {
            await ApiAnswer.RefusedAsync(context, CredentialRefusal.NotFound, "this account has no access to this mailbox");
            return;
        }
        MailboxPasswordOutcome outcome;
        try
        {
            outcome = await accounts.SetMailboxPasswordAsync(account.Identifier, grant.Mailbox.ToString(), body["newPassword"], body.Flag("unify"),
                context.RequestAborted, client);
        }
        catch (CredentialOperationException e)
        {
            await ApiAnswer.RefusedAsync(context, e);
            return;
        }
        if (outcome.Result == MailboxPasswordResult.UnificationRefused)
        {
            await WebAnswers.JsonAsync(context, StatusCodes.Status409Conflict, new
            {
                result = "unificationRefused",
                message = "nothing was changed: unification is not possible because " + string.Join("; ", outcome.Conditions.Failed),
                failedConditions = outcome.Conditions.Failed,
            });
            return;
        }
        var accountChanged = outcome.Result is MailboxPasswordResult.Unified or MailboxPasswordResult.BothChangedWhileUnified;
        if (accountChanged)
        {
            session.EndAll(account.Identifier);
        }
        var result = outcome.Result switch
        {
            MailboxPasswordResult.Unified => "unified",
            MailboxPasswordResult.BothChangedWhileUnified => "changedWhileUnified",
            _ => "changed",
        };
        log.Change("mailbox-password " + grant.Mailbox, account.Identifier, client, result);
        await ApiAnswer.OkAsync(context, new
        {
            result,
            mailbox = grant.Mailbox.ToString(),
            accountPasswordChanged = accountChanged,
            sessionsEnded = accountChanged,
            unificationOffered = outcome.Result == MailboxPasswordResult.ChangedUnificationOffered,
            unificationFailedConditions = outcome.Conditions.Failed,
        });
    }

    /// <summary>
    /// <c>{"password", "totp"?, "newPassword"}</c>: the current password (and code) checked on the
    /// login's throttled path, so a stolen token cannot be used to guess it; a unified mailbox follows.
    /// </summary>
    public async Task PasswordAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["password", "newPassword"], ["totp"]) is not { } body
            || await session.RequireAsync(context) is not { } current)
        {
            return;
        }
        var account = current.Account;
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        var check = await accounts.LoginAsync(account.Identifier, body["password"], body.Optional("totp"), client, context.RequestAborted);
        switch (check.Status)
        {
            case AccountLoginStatus.Succeeded:
                break;
            case AccountLoginStatus.TemporarilyUnavailable:
                await ApiAnswer.RefusedAsync(context, CredentialRefusal.Busy, "the server is too busy to verify now; try again shortly");
                return;
            case AccountLoginStatus.Throttled:
                await ApiAnswer.RefusedAsync(context, CredentialRefusal.Throttled, "too many failed attempts for this account or from this address; try again later");
                return;
            default:
                await ApiAnswer.RefusedAsync(context, CredentialRefusal.FailedCredentials,
                    account.TwoFactorEnabled ? "the current password or the 2FA code is wrong" : "the current password is wrong");
                return;
        }
        EmailAddress? unified;
        try
        {
            unified = await accounts.SetPasswordAsync(account.Identifier, body["newPassword"], context.RequestAborted, client);
        }
        catch (CredentialOperationException e)
        {
            await ApiAnswer.RefusedAsync(context, e);
            return;
        }
        session.EndAll(account.Identifier);
        log.Change("password", account.Identifier, client, "changed");
        await ApiAnswer.OkAsync(context, new
        {
            result = "changed",
            alsoChanged = unified is null ? Array.Empty<string>() : [unified.ToString()],
            sessionsEnded = true,
        });
    }

    /// <summary><c>{}</c> → a fresh secret, its otpauth:// URI and the sealed enrolment to send back with the first code; nothing is stored yet.</summary>
    public async Task TwoFactorEnrolAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, []) is null || await session.RequireAsync(context) is not { } current)
        {
            return;
        }
        if (current.Account.TwoFactorEnabled)
        {
            await ApiAnswer.RefusedAsync(context, CredentialRefusal.Conflict, "2FA is already on: turn it off first with POST " + TwoFactorDisablePath);
            return;
        }
        var enrolment = await accounts.NewTwoFactorEnrolmentAsync(current.Account.Identifier, context.RequestAborted);
        await ApiAnswer.OkAsync(context, new
        {
            result = "enrolment",
            secret = enrolment.Base32Secret,
            otpauthUri = enrolment.ProvisioningUri,
            enrolment = seal.Seal(enrolment, current.Account.Identifier),
            expiresInSeconds = (long)TwoFactorEnrolmentSeal.Lifetime.TotalSeconds,
        });
    }

    /// <summary><c>{"enrolment", "totp"}</c>: the first code of the new secret turns 2FA on.</summary>
    public async Task TwoFactorConfirmAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["enrolment", "totp"]) is not { } body || await session.RequireAsync(context) is not { } current)
        {
            return;
        }
        if (seal.Unseal(body["enrolment"], current.Account.Identifier) is not { } enrolment)
        {
            await ApiAnswer.RefusedAsync(context, CredentialRefusal.InvalidInput, "the enrolment expired or is not this account's: enrol again");
            return;
        }
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        var status = await accounts.ConfirmTwoFactorAsync(current.Account.Identifier, enrolment.Secret, body["totp"], client, context.RequestAborted);
        await TwoFactorAnsweredAsync(context, current.Account.Identifier, client, status, "enabled");
    }

    /// <summary><c>{"totp"}</c>: a current code turns 2FA off (a wrong one counts toward the 2FA lock).</summary>
    public async Task TwoFactorDisableAsync(HttpContext context)
    {
        if (await ApiBody.ReadAsync(context, ["totp"]) is not { } body || await session.RequireAsync(context) is not { } current)
        {
            return;
        }
        var client = context.Connection.RemoteIpAddress ?? IPAddress.IPv6None;
        var status = await accounts.DisableTwoFactorWithCodeAsync(current.Account.Identifier, body["totp"], client, context.RequestAborted);
        await TwoFactorAnsweredAsync(context, current.Account.Identifier, client, status, "disabled");
    }

    private async Task TwoFactorAnsweredAsync(HttpContext context, string identifier, IPAddress client, TwoFactorChangeStatus status, string done)
    {
        switch (status)
        {
            case TwoFactorChangeStatus.Changed or TwoFactorChangeStatus.AlreadyInThatState:
                // The credential version changed: every session of the account ends, this one included.
                session.EndAll(identifier);
                log.Change("2fa", identifier, client, done);
                await ApiAnswer.OkAsync(context, new { result = done, sessionsEnded = true });
                return;
            case TwoFactorChangeStatus.Throttled:
                await ApiAnswer.RefusedAsync(context, CredentialRefusal.Throttled, "too many attempts for this account or from this address; try again later");
                return;
            default:
                await ApiAnswer.RefusedAsync(context, CredentialRefusal.FailedCredentials, "the code is wrong or already used (or 2FA is locked after wrong codes)");
                return;
        }
    }
}
