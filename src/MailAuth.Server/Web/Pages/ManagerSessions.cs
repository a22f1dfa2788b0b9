using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using MailAuth.Core;
using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// Manager-account sessions of the web pages, in this process's memory (a restart logs everyone
/// out). The cookie holds 256 random bits; only their SHA-256 is kept, so a memory dump holds no
/// usable cookie. A new id at every login (the old one ended: no fixation), ended at logout and when
/// the account's credentials change, here or anywhere else (the CLI, a reset, another node: the
/// session keeps the account's credential version of its login, and a page that finds the stored
/// one moved on ends it); idle and absolute lifetimes bound the rest. The JSON API's bearer tokens
/// are sessions of this same kind (<see cref="Api.ApiSession"/>).
/// </summary>
internal sealed class ManagerSessions(TimeProvider clock)
{
    /// <summary>The <c>__Host-</c> prefix makes the browser insist on Secure, Path=/ and no Domain.</summary>
    public const string CookieName = "__Host-mailauth-session";

    /// <summary>A manager page left open this long needs a new login.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(30);

    /// <summary>However active, a session ends after this.</summary>
    public static readonly TimeSpan AbsoluteLifetime = TimeSpan.FromHours(12);

    /// <summary>Sessions kept at once: a bound on memory; logins past it are refused until some expire.</summary>
    public const int MaxSessions = 100_000;

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    private sealed record Session(string Identifier, long CredentialVersion, DateTimeOffset Created)
    {
        public DateTimeOffset LastSeen { get; set; }
    }

    /// <summary>The account logged in with this request's cookie and its credential version then, or null (no cookie, unknown, expired).</summary>
    public (string Identifier, long CredentialVersion)? Current(HttpContext context) =>
        context.Request.Cookies.TryGetValue(CookieName, out var id) ? Current(id) : null;

    /// <summary>The account logged in with this session token (a cookie's or an API bearer token) and its credential version then, or null.</summary>
    public (string Identifier, long CredentialVersion)? Current(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        var key = Key(token);
        if (!_sessions.TryGetValue(key, out var session))
        {
            return null;
        }
        var now = clock.GetUtcNow();
        if (Expired(session, now))
        {
            _sessions.TryRemove(key, out _);
            return null;
        }
        session.LastSeen = now;
        return (session.Identifier, session.CredentialVersion);
    }

    /// <summary>Ends this request's session (if any) and starts a new one for <paramref name="identifier"/>; false when full.</summary>
    public bool Start(HttpContext context, string identifier, long credentialVersion)
    {
        End(context);
        if (Start(identifier, credentialVersion) is not { } id)
        {
            return false;
        }
        context.Response.Cookies.Append(CookieName, id, CookieOptions());
        return true;
    }

    /// <summary>A new session for <paramref name="identifier"/>: its token (shown once, kept only as a hash), or null when full.</summary>
    public string? Start(string identifier, long credentialVersion)
    {
        var now = clock.GetUtcNow();
        if (_sessions.Count >= MaxSessions)
        {
            foreach (var (key, session) in _sessions)
            {
                if (Expired(session, now))
                {
                    _sessions.TryRemove(key, out _);
                }
            }
            if (_sessions.Count >= MaxSessions)
            {
                return null;
            }
        }
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _sessions[Key(id)] = new Session(identifier, credentialVersion, now) { LastSeen = now };
        return id;
    }

    /// <summary>Ends this request's session and tells the browser to drop the cookie.</summary>
    public void End(HttpContext context)
    {
        if (context.Request.Cookies.TryGetValue(CookieName, out var id) && !string.IsNullOrEmpty(id))
        {
            End(id);
            context.Response.Cookies.Delete(CookieName, CookieOptions());
        }
    }

    /// <summary>Ends the session of this token, if any.</summary>
    public void End(string token) => _sessions.TryRemove(Key(token), out _);

    /// <summary>
    /// The account of a session, or null when the session must end: the account is gone, renamed, or
    /// its password, 2FA or identifier changed since the session's login (anywhere: the CLI, a reset,
    /// another node); then every session of it ends here.
    /// </summary>
    public async Task<ManagerAccount?> AccountAsync((string Identifier, long CredentialVersion) session, ManagerAccountService accounts, CancellationToken cancellationToken)
    {
        ManagerAccount? account;
        try
        {
            account = await accounts.ShowAsync(session.Identifier, cancellationToken);
        }
        catch (CredentialOperationException)
        {
            account = null;
        }
        if (account is not null && account.CredentialVersion == session.CredentialVersion)
        {
            return account;
        }
        EndAll(session.Identifier);
        return null;
    }

    /// <summary>Ends every session of the account: its credentials changed.</summary>
    public void EndAll(string identifier)
    {
        foreach (var (key, session) in _sessions)
        {
            if (session.Identifier == identifier)
            {
                _sessions.TryRemove(key, out _);
            }
        }
    }

    /// <summary>A session cookie (no Expires): the browser forgets it when closed.</summary>
    private static CookieOptions CookieOptions() => new()
    {
        Path = "/",
        Secure = true,
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        IsEssential = true,
    };

    private static bool Expired(Session session, DateTimeOffset now) =>
        now - session.LastSeen > IdleLifetime || now - session.Created > AbsoluteLifetime;

    private static string Key(string id) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
}
