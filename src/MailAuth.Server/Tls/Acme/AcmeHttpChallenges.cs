using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Tls.Acme;

/// <summary>
/// The HTTP-01 challenges being validated now (RFC 8555 §8.3): token → key authorization, added
/// by the ACME client just before it asks the CA to validate, removed when the CA has decided.
/// </summary>
internal sealed class AcmeHttpChallenges
{
    private readonly ConcurrentDictionary<string, string> _pending = new(StringComparer.Ordinal);

    public void Add(string token, string keyAuthorization) => _pending[token] = keyAuthorization;

    public void Remove(string token) => _pending.TryRemove(token, out _);

    public bool TryGet(string token, out string keyAuthorization) => _pending.TryGetValue(token, out keyAuthorization!);
}

/// <summary>Answers the CA's HTTP-01 validation requests on a web listener's plain-HTTP port.</summary>
internal static class AcmeChallengeEndpoints
{
    public const string Pattern = "/.well-known/acme-challenge/{token}";

    /// <summary>
    /// Maps <c>GET /.well-known/acme-challenge/{token}</c>: the key authorization of a pending
    /// challenge, 404 for any other token. Without <paramref name="challenges"/>, the singleton of
    /// the endpoints' services.
    /// </summary>
    public static IEndpointConventionBuilder MapAcmeHttpChallenges(this IEndpointRouteBuilder endpoints, AcmeHttpChallenges? challenges = null)
    {
        var pending = challenges ?? endpoints.ServiceProvider.GetRequiredService<AcmeHttpChallenges>();
        return endpoints.MapGet(Pattern, context =>
        {
            if (context.Request.RouteValues["token"] is string token && pending.TryGet(token, out var keyAuthorization))
            {
                context.Response.ContentType = "application/octet-stream";
                return context.Response.WriteAsync(keyAuthorization, context.RequestAborted);
            }
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }
}
