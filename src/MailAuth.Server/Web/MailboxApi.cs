using System.Text.Json;
using MailAuth.Core;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Sasl;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web;

/// <summary>
/// The mailbox holder's JSON API (<c>/api/v1/</c>) and the Apple profile download: each call proves
/// the mailbox password first (<see cref="MailboxHolder"/>). Failures have one shape whatever the
/// reason, so nothing tells whether an address exists.
/// </summary>
internal sealed class MailboxApi(MailboxHolder holder, MailServerSettings settings, ProfileSigner signer, MailboxAdministration administration)
{
    public const string TestPath = "/api/v1/mailbox/test";
    public const string PasswordPath = "/api/v1/mailbox/password";

    private static readonly object Failed = new { result = "failed", message = "the address or the password is wrong" };

    /// <summary>
    /// Issue 16's first flow, "test an email address / password pair": <c>{"address", "password"}</c>
    /// → 200 with the settings a client needs for this mailbox, 401 when refused, 503 when busy.
    /// </summary>
    public async Task TestAsync(HttpContext context)
    {
        if (await ReadFieldsAsync(context, "address", "password") is not { } fields)
        {
            return;
        }
        var outcome = await holder.VerifyAsync(context, "JSON", fields[0], fields[1]);
        if (await RefusedAsync(context, outcome))
        {
            return;
        }
        var address = ((SaslLoginOutcome.Succeeded)outcome).Address.ToString();
        await WebAnswers.JsonAsync(context, StatusCodes.Status200OK, new
        {
            result = "ok",
            address,
            incoming = settings.Imap.Select(endpoint => Describe(endpoint, address)),
            outgoing = settings.Submission.Select(endpoint => Describe(endpoint, address)),
            profile = AppleProfile.Path,
        });
    }

    /// <summary>
    /// Issue 16's second flow, "change a mailbox password knowing the current one":
    /// <c>{"address", "password", "newPassword"}</c> → 200 once changed (the mailbox's IMAP and SMTP
    /// sessions end, through the mailbox change log), 400 when the new password is refused by the
    /// password policy, 401/503 as for a test.
    /// </summary>
    public async Task ChangePasswordAsync(HttpContext context)
    {
        if (await ReadFieldsAsync(context, "address", "password", "newPassword") is not { } fields)
        {
            return;
        }
        var outcome = await holder.VerifyAsync(context, "JSON", fields[0], fields[1]);
        if (await RefusedAsync(context, outcome))
        {
            return;
        }
        var address = ((SaslLoginOutcome.Succeeded)outcome).Address;
        try
        {
            var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            await administration.ChangePasswordAsHolderAsync(address, fields[2], client, context.RequestAborted);
        }
        catch (CredentialOperationException e)
        {
            await WebAnswers.JsonAsync(context, StatusCodes.Status400BadRequest, new { result = "invalid", message = "new password: " + e.Message });
            return;
        }
        await WebAnswers.JsonAsync(context, StatusCodes.Status200OK, new { result = "changed", address = address.ToString(), sessionsEnded = true });
    }

    /// <summary>
    /// <c>GET /apple/mailbox.mobileconfig</c> with HTTP Basic (a browser asks for the address and
    /// password); <c>?include-password=true</c> puts the password in the profile.
    /// </summary>
    public async Task AppleProfileAsync(HttpContext context)
    {
        if (settings.Imap.Count == 0 || settings.Submission.Count == 0)
        {
            await WebAnswers.NotFoundAsync(context);
            return;
        }
        if (MailboxHolder.BasicCredentials(context.Request) is not { } credentials)
        {
            MailboxHolder.Challenge(context.Response);
            await WebAnswers.TextAsync(context, StatusCodes.Status401Unauthorized, "the mailbox address and password are required\n");
            return;
        }
        var outcome = await holder.VerifyAsync(context, "BASIC", credentials.Address, credentials.Password);
        if (outcome is SaslLoginOutcome.Failed)
        {
            MailboxHolder.Challenge(context.Response);
        }
        if (await RefusedAsync(context, outcome))
        {
            return;
        }
        var address = ((SaslLoginOutcome.Succeeded)outcome).Address;
        var includePassword = string.Equals(context.Request.Query["include-password"], "true", StringComparison.OrdinalIgnoreCase);
        var profile = signer.Sign(AppleProfile.Create(address, settings, includePassword ? credentials.Password : null));
        context.Response.ContentType = AppleProfile.ContentType;
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(address)}.mobileconfig\"";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentLength = profile.Length;
        await context.Response.Body.WriteAsync(profile, context.RequestAborted);
    }

    /// <summary>Answers a failed or busy verification; false when it succeeded.</summary>
    private static async Task<bool> RefusedAsync(HttpContext context, SaslLoginOutcome outcome)
    {
        switch (outcome)
        {
            case SaslLoginOutcome.Succeeded:
                return false;
            case SaslLoginOutcome.Busy:
                context.Response.Headers.RetryAfter = "5";
                await WebAnswers.JsonAsync(context, StatusCodes.Status503ServiceUnavailable,
                    new { result = "unavailable", message = "the server is too busy to verify now, try again" });
                return true;
            default:
                await WebAnswers.JsonAsync(context, StatusCodes.Status401Unauthorized, Failed);
                return true;
        }
    }

    /// <summary>
    /// The named string fields of a JSON object body, or null once a 4xx has been answered: JSON
    /// only (a cross-site form cannot send it without a CORS preflight), every field a string.
    /// </summary>
    internal static async Task<string[]?> ReadFieldsAsync(HttpContext context, params string[] names)
    {
        if (!context.Request.HasJsonContentType())
        {
            await WebAnswers.JsonAsync(context, StatusCodes.Status415UnsupportedMediaType,
                new { result = "invalid", message = "send Content-Type: application/json" });
            return null;
        }
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 2 }, context.RequestAborted);
            var values = new string[names.Length];
            for (var i = 0; i < names.Length; i++)
            {
                if (body.RootElement.ValueKind != JsonValueKind.Object
                    || !body.RootElement.TryGetProperty(names[i], out var value) || value.ValueKind != JsonValueKind.String)
                {
                    await WebAnswers.JsonAsync(context, StatusCodes.Status400BadRequest,
                        new { result = "invalid", message = $"the body must be a JSON object with the strings {string.Join(", ", names)}" });
                    return null;
                }
                values[i] = value.GetString()!;
            }
            return values;
        }
        catch (JsonException)
        {
            await WebAnswers.JsonAsync(context, StatusCodes.Status400BadRequest, new { result = "invalid", message = "the body is not JSON" });
            return null;
        }
    }

    private static object Describe(MailServerEndpoint endpoint, string address) => new
    {
        protocol = endpoint.Protocol,
        host = endpoint.HostName,
        port = endpoint.Port,
        security = endpoint.Security == TransportSecurity.ImplicitTls ? "tls" : "starttls",
        username = address,
        authentication = "password",
    };

    /// <summary>A file name of the address's letters, digits, dots and dashes.</summary>
    private static string FileName(EmailAddress address) =>
        new(address.ToString().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray());
}
