using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Tls.Acme;

/// <summary>A certificate chain issued for <paramref name="Names"/>; <paramref name="Dropped"/> are the names asked for whose authorization failed.</summary>
internal sealed record AcmeCertificate(string Chain, IReadOnlyList<string> Names, IReadOnlyList<string> Dropped);

/// <summary>
/// The client side of RFC 8555: directory, nonces, account, order, HTTP-01 authorizations,
/// finalization with a CSR, and the certificate chain's download.
/// </summary>
internal sealed partial class AcmeClient(HttpClient http, Uri directoryUrl, AcmeSigner signer, TimeProvider clock, ILogger logger)
{
    private const string BadNonce = "urn:ietf:params:acme:error:badNonce";
    private const int MaxBadNonceRetries = 5;

    /// <summary>How long an authorization or an order may stay pending or processing before the attempt is given up.</summary>
    private static readonly TimeSpan PollLimit = TimeSpan.FromMinutes(3);

    private JsonElement? _directory;
    private string? _nonce;
    private string? _accountUrl;

    /// <summary>
    /// A certificate for <paramref name="hostNames"/> (the first one kept also its subject) on
    /// <paramref name="certificateKey"/>: the PEM chain the CA issued, leaf first. A name whose
    /// authorization the CA found invalid (no DNS, not reaching this host) is dropped and the rest
    /// ordered again (an order with one invalid authorization can never be finalized, §7.1.6);
    /// those names come back in <see cref="AcmeCertificate.Dropped"/>. Throws when none is left.
    /// </summary>
    public async Task<AcmeCertificate> ObtainAsync(
        IReadOnlyList<string> hostNames, string email, ECDsa certificateKey, AcmeChallengeAnswers challenges, CancellationToken cancellationToken)
    {
        await EnsureAccountAsync(email, cancellationToken);
        var names = hostNames.ToList();
        var dropped = new List<string>();
        while (true)
        {
            var (orderUrl, order, failed) = await OrderAsync(names, challenges, cancellationToken);
            if (failed is null)
            {
                return new AcmeCertificate(await FinalizeAsync(names, orderUrl, order, certificateKey, cancellationToken), names, dropped);
            }
            names.Remove(failed.Value.Name);
            dropped.Add(failed.Value.Name);
            LogDropped(failed.Value.Name, failed.Value.Problem);
            if (names.Count == 0)
            {
                throw new AcmeException($"authorization for {failed.Value.Name} failed{failed.Value.Problem}, and no other name was left to order");
            }
        }
    }

    /// <summary>§7.4: a new order for <paramref name="names"/>, each authorized; stops at the first name whose authorization failed.</summary>
    private async Task<(string OrderUrl, JsonElement Order, (string Name, string Problem)? Failed)> OrderAsync(
        List<string> names, AcmeChallengeAnswers challenges, CancellationToken cancellationToken)
    {
        var identifiers = new JsonArray([.. names.Select(name => (JsonNode)new JsonObject { ["type"] = "dns", ["value"] = name })]);
        var created = await PostAsync(await EndpointAsync("newOrder", cancellationToken), new JsonObject { ["identifiers"] = identifiers }, cancellationToken);
        var orderUrl = created.Location ?? throw new AcmeException("newOrder: the CA gave no order URL (Location)");
        var order = created.Json;
        LogOrder(string.Join(", ", names));
        foreach (var authorization in order.GetProperty("authorizations").EnumerateArray())
        {
            if (await AuthorizeAsync(authorization.GetString()!, challenges, cancellationToken) is { } failed)
            {
                // Only a name of this order may be dropped: anything else is the CA's error.
                var name = names.FirstOrDefault(n => string.Equals(n, failed.Name, StringComparison.OrdinalIgnoreCase))
                    ?? throw new AcmeException($"authorization for {failed.Name}, a name not ordered, failed{failed.Problem}");
                return (orderUrl, order, (name, failed.Problem));
            }
        }
        return (orderUrl, order, null);
    }

    /// <summary>§7.4: finalize with a CSR naming every identifier, wait while the CA issues, download the chain.</summary>
    private async Task<string> FinalizeAsync(
        List<string> names, string orderUrl, JsonElement order, ECDsa certificateKey, CancellationToken cancellationToken)
    {
        var request = new CertificateRequest("CN=" + names[0], certificateKey, HashAlgorithmName.SHA256);
        var alternativeNames = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            alternativeNames.AddDnsName(name);
        }
        request.CertificateExtensions.Add(alternativeNames.Build());
        var finalizeUrl = Text(order, "finalize");
        await PostAsync(finalizeUrl, new JsonObject { ["csr"] = Base64Url.EncodeToString(request.CreateSigningRequest()) }, cancellationToken);
        order = await PollAsync(orderUrl, "order", ["pending", "ready", "processing"], cancellationToken);
        if (Text(order, "status") != "valid")
        {
            throw new AcmeException($"order: the CA ended it {Text(order, "status")}{ErrorOf(order)}");
        }

        // §7.4.2: the chain, leaf first, as application/pem-certificate-chain.
        var certificate = await PostAsync(Text(order, "certificate"), payload: null, cancellationToken, accept: "application/pem-certificate-chain");
        if (!certificate.Body.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            throw new AcmeException("certificate: the CA's answer holds no PEM certificate");
        }
        return certificate.Body;
    }

    /// <summary>§7.3: the account of this key, created the first time (with the contact address), found afterwards.</summary>
    private async Task EnsureAccountAsync(string email, CancellationToken cancellationToken)
    {
        if (_accountUrl is not null)
        {
            return;
        }
        var payload = new JsonObject { ["termsOfServiceAgreed"] = true };
        if (email.Length > 0)
        {
            payload["contact"] = new JsonArray("mailto:" + email);
        }
        var account = await PostAsync(await EndpointAsync("newAccount", cancellationToken), payload, cancellationToken, useJwk: true);
        _accountUrl = account.Location ?? throw new AcmeException("newAccount: the CA gave no account URL (Location)");
        if (account.Status == HttpStatusCode.Created)
        {
            LogAccountCreated(_accountUrl);
        }
    }

    /// <summary>
    /// §7.5, §8.3, RFC 8737: proves control of one name by HTTP-01 or TLS-ALPN-01, unless the CA still holds a valid
    /// authorization. Returns the name and the CA's words when the CA found it invalid (§7.1.6), null when valid.
    /// </summary>
    private async Task<(string Name, string Problem)?> AuthorizeAsync(string authorizationUrl, AcmeChallengeAnswers challenges, CancellationToken cancellationToken)
    {
        var authorization = (await PostAsync(authorizationUrl, payload: null, cancellationToken)).Json;
        var identifier = authorization.TryGetProperty("identifier", out var id) ? Text(id, "value") : authorizationUrl;
        var status = Text(authorization, "status");
        if (status == "valid")
        {
            return null;
        }
        if (status == "invalid")
        {
            return (identifier, " (the CA holds it invalid)");
        }
        if (status != "pending")
        {
            throw new AcmeException($"authorization for {identifier} is {status}");
        }
        var challenge = authorization.GetProperty("challenges").EnumerateArray()
            .FirstOrDefault(c => c.TryGetProperty("type", out var type) && type.GetString() == challenges.Type);
        if (challenge.ValueKind != JsonValueKind.Object)
        {
            throw new AcmeException($"authorization for {identifier}: the CA offers no {challenges.Type} challenge");
        }
        var token = Text(challenge, "token");
        // §8.3: a token is base64url; anything else must not reach a URL path or a file name.
        if (token.Length is < 16 or > 256 || token.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_')))
        {
            throw new AcmeException($"authorization for {identifier}: the challenge token is not base64url");
        }
        challenges.Add(identifier, token, signer.KeyAuthorization(token));
        try
        {
            // §7.5.1: an empty object asks the CA to validate now.
            await PostAsync(Text(challenge, "url"), new JsonObject(), cancellationToken);
            authorization = await PollAsync(authorizationUrl, "authorization for " + identifier, ["pending"], cancellationToken);
        }
        finally
        {
            challenges.Remove(identifier, token);
        }
        status = Text(authorization, "status");
        if (status == "valid")
        {
            return null;
        }
        var failed = authorization.GetProperty("challenges").EnumerateArray()
            .FirstOrDefault(c => c.TryGetProperty("token", out var t) && t.GetString() == token);
        var problem = failed.ValueKind == JsonValueKind.Object ? ErrorOf(failed) : "";
        return status == "invalid" ? (identifier, problem) : throw new AcmeException($"authorization for {identifier} is {status}{problem}");
    }

    /// <summary>POST-as-GET <paramref name="url"/> until its status leaves <paramref name="waiting"/>, as often as Retry-After asks (1-10 s).</summary>
    private async Task<JsonElement> PollAsync(string url, string what, string[] waiting, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + PollLimit;
        while (true)
        {
            var response = await PostAsync(url, payload: null, cancellationToken);
            var status = Text(response.Json, "status");
            if (!waiting.Contains(status))
            {
                return response.Json;
            }
            if (clock.GetUtcNow() > deadline)
            {
                throw new AcmeException($"{what} is still {status} after {PollLimit.TotalMinutes:0} minutes");
            }
            var wait = response.RetryAfter ?? TimeSpan.FromSeconds(1);
            wait = wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait > TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : wait;
            await Task.Delay(wait, clock, cancellationToken);
        }
    }

    private async Task<string> EndpointAsync(string name, CancellationToken cancellationToken)
    {
        if (_directory is null)
        {
            using var response = await http.GetAsync(directoryUrl, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new AcmeException($"directory {directoryUrl}: {(int)response.StatusCode} {response.ReasonPhrase}");
            }
            _directory = Parse(body, "directory");
        }
        return _directory.Value.TryGetProperty(name, out var url) && url.GetString() is { } text
            ? text
            : throw new AcmeException($"directory {directoryUrl} names no {name}");
    }

    /// <summary>§7.2: a fresh nonce, for the first request and after a response that carried none.</summary>
    private async Task<string> NewNonceAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, await EndpointAsync("newNonce", cancellationToken));
        using var response = await http.SendAsync(request, cancellationToken);
        return ReplayNonce(response) ?? throw new AcmeException($"newNonce: {(int)response.StatusCode} without a Replay-Nonce");
    }

    private sealed record Response(HttpStatusCode Status, string? Location, TimeSpan? RetryAfter, string Body)
    {
        public JsonElement Json => Parse(Body, "response");
    }

    /// <summary>
    /// A signed POST (§6.2), with a null <paramref name="payload"/> a POST-as-GET (§6.3). A
    /// badNonce refusal is retried with the nonce it carries (§6.5); any other problem document
    /// (RFC 7807) becomes an <see cref="AcmeException"/> with the CA's type and detail.
    /// </summary>
    private async Task<Response> PostAsync(
        string url, JsonObject? payload, CancellationToken cancellationToken, bool useJwk = false, string accept = "application/json")
    {
        for (var attempt = 1; ; attempt++)
        {
            var nonce = _nonce ?? await NewNonceAsync(cancellationToken);
            _nonce = null;
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new ByteArrayContent(signer.Sign(url, nonce, useJwk ? null : _accountUrl, payload)),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/jose+json");
            request.Headers.Accept.ParseAdd(accept);
            using var response = await http.SendAsync(request, cancellationToken);
            _nonce = ReplayNonce(response);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                var retryAfter = response.Headers.RetryAfter is { } after
                    ? after.Delta ?? (after.Date is { } date ? date - clock.GetUtcNow() : null)
                    : null;
                return new Response(response.StatusCode, response.Headers.Location?.ToString(), retryAfter, body);
            }
            var (type, detail) = Problem(body);
            if (type == BadNonce && attempt < MaxBadNonceRetries)
            {
                LogBadNonce(attempt);
                continue;
            }
            throw new AcmeException($"{Step(url)}: {(int)response.StatusCode} {type}: {detail}");
        }
    }

    private string Step(string url)
    {
        if (_directory is { } directory)
        {
            foreach (var property in directory.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() == url)
                {
                    return property.Name;
                }
            }
        }
        return url;
    }

    private static string? ReplayNonce(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Replay-Nonce", out var values) ? values.FirstOrDefault() : null;

    private static (string Type, string Detail) Problem(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return (root.TryGetProperty("type", out var type) ? type.GetString() ?? "" : "",
                root.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "");
        }
        catch (JsonException)
        {
            return ("", body.Length > 200 ? body[..200] : body);
        }
    }

    private static string ErrorOf(JsonElement element) =>
        element.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
            ? ": " + (error.TryGetProperty("type", out var type) ? type.GetString() + " " : "") + (error.TryGetProperty("detail", out var detail) ? detail.GetString() : "")
            : "";

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new AcmeException($"the CA's answer has no \"{name}\"");

    private static JsonElement Parse(string body, string what)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.Clone()
                : throw new AcmeException($"the CA's {what} is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new AcmeException($"the CA's {what} is not JSON: {e.Message}");
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "acme: account {Account} created")]
    private partial void LogAccountCreated(string account);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "acme: ordering a certificate for {Names}")]
    private partial void LogOrder(string names);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message =
        "acme: {Name} dropped from the certificate, its authorization failed{Problem}; the other names are ordered again and it is tried again at the next renewal")]
    private partial void LogDropped(string name, string problem);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, Message = "acme: the CA refused nonce {Attempt} (badNonce), retrying with a fresh one")]
    private partial void LogBadNonce(int attempt);
}
