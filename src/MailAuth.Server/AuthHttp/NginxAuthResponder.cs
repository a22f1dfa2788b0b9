using System.Diagnostics;
using MailAuth.Core.Addresses;
using MailAuth.Core.Authentication;
using MailAuth.Server.Hosting;
using MailAuth.Server.Sasl;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.AuthHttp;

/// <summary>
/// What nginx is told. <see cref="Status"/> is <c>OK</c> or the text nginx shows the mail client
/// (IMAP <c>NO</c>, POP3 <c>-ERR</c>, or after <see cref="SmtpErrorCode"/> for SMTP). With a
/// <see cref="WaitSeconds"/> nginx lets the client try again after that pause; without, it closes.
/// </summary>
internal sealed record NginxAuthAnswer(
    int HttpStatus,
    string Status,
    MailBackendEndpoint? Backend = null,
    int? WaitSeconds = null,
    string? SmtpErrorCode = null)
{
    public const string InvalidLogin = "Invalid login or password";
    public const string TemporaryProblem = "Temporary server problem, try again later";
    public const string PlaintextDisallowed = "Plaintext authentication disallowed on non-secure (SSL/TLS) connections";
}

/// <summary>Answers nginx's auth_http requests with the same authenticator, throttle and cache as IMAP and SMTP.</summary>
internal sealed partial class NginxAuthResponder(
    MailAuthOptions options,
    MailAuthenticator authenticator,
    MailBackends backends,
    HomeNodeRouter homeNodes,
    ILogger<NginxAuthResponder> logger)
{
    private readonly AuthHttpOptions _options = options.AuthHttp;
    private readonly SaslLogin _login = new(authenticator);
    private readonly byte[]? _secretDigest = string.IsNullOrEmpty(options.AuthHttp.SharedSecret)
        ? null
        : System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(options.AuthHttp.SharedSecret));

    /// <summary>The answer to a connection whose caller is not allowed (<see cref="AuthHttpService"/>): nothing in its request is read.</summary>
    public static NginxAuthAnswer CallerRefused { get; } =
        new(StatusCodes.Status403Forbidden, NginxAuthAnswer.TemporaryProblem, SmtpErrorCode: "451 4.3.0");

    public async Task<NginxAuthAnswer> AnswerAsync(string method, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        if (_secretDigest is not null && !HasSecret(headers))
        {
            LogRefused($"no or a wrong {_options.SecretHeader} header (MailAuth:AuthHttp:SharedSecret)");
            return new NginxAuthAnswer(StatusCodes.Status403Forbidden, NginxAuthAnswer.TemporaryProblem, SmtpErrorCode: "451 4.3.0");
        }
        if (!HttpMethods.IsGet(method))
        {
            LogRefused($"method {method} (nginx sends GET)");
            return new NginxAuthAnswer(StatusCodes.Status405MethodNotAllowed, NginxAuthAnswer.TemporaryProblem, SmtpErrorCode: "451 4.3.0");
        }
        var request = NginxAuthRequest.Parse(headers, out var protocol, out var error);
        if (request is null)
        {
            LogRefused(error);
            return new NginxAuthAnswer(StatusCodes.Status400BadRequest, "Invalid request: " + error,
                SmtpErrorCode: protocol == MailProxyProtocol.Smtp ? "451 4.3.0" : null);
        }
        var smtp = request.Protocol == MailProxyProtocol.Smtp;
        var mayRetry = request.LoginAttempt < _options.MaxLoginAttempts;
        if (!request.Secured && !_options.AllowPlaintextWithoutTls)
        {
            return new NginxAuthAnswer(StatusCodes.Status200OK, NginxAuthAnswer.PlaintextDisallowed, SmtpErrorCode: smtp ? "538 5.7.11" : null);
        }

        // The backend depends on the domain as written, known or not, so asking for a protocol that
        // is not offered says nothing about whether the mailbox exists, and costs no Argon2.
        var normalized = AddressNormalizer.TryNormalize(request.User, out var written, out _);
        var domain = normalized ? written.Domain : null;
        var backend = backends.For(domain, request.Protocol);
        if (backend.Port == 0)
        {
            LogNotOffered(Name(request.Protocol), domain ?? "(malformed address)");
            return new NginxAuthAnswer(StatusCodes.Status200OK, $"{Name(request.Protocol)} is not offered for this address",
                SmtpErrorCode: smtp ? "554 5.7.0" : null);
        }

        var client = new ClientContext(Channel(request.Protocol), "PLAIN", request.ClientAddress, request.Secured)
        {
            TrustedNetworksApply = _options.TrustedNetworksApply,
        };
        var outcome = await _login.VerifyAsync(request.User, request.Password, client, cancellationToken);
        if (outcome is SaslLoginOutcome.Succeeded && normalized)
        {
            // Read only after a good password, so a guess costs no read of the home node.
            var home = await homeNodes.RouteAsync(written, request.Protocol, backend, cancellationToken);
            outcome = home is null ? new SaslLoginOutcome.Busy() : outcome;
            backend = home ?? backend;
        }
        return Answer(outcome, backend, smtp, mayRetry ? _options.RetryWaitSeconds : null);
    }

    /// <summary>The answer table; <paramref name="waitSeconds"/> is null on the client's last allowed attempt.</summary>
    internal static NginxAuthAnswer Answer(SaslLoginOutcome outcome, MailBackendEndpoint backend, bool smtp, int? waitSeconds) => outcome switch
    {
        SaslLoginOutcome.Succeeded => new NginxAuthAnswer(StatusCodes.Status200OK, "OK", backend),
        SaslLoginOutcome.Busy => new NginxAuthAnswer(StatusCodes.Status200OK, NginxAuthAnswer.TemporaryProblem,
            WaitSeconds: waitSeconds, SmtpErrorCode: smtp ? "454 4.7.0" : null),
        // Unknown address, wrong password, disabled and throttled look the same.
        SaslLoginOutcome.Failed => new NginxAuthAnswer(StatusCodes.Status200OK, NginxAuthAnswer.InvalidLogin,
            WaitSeconds: waitSeconds, SmtpErrorCode: smtp ? "535 5.7.8" : null),
        // nginx sends a username and password, never a SASL exchange: nothing else can come of verifying them.
        _ => throw new UnreachableException($"no auth_http answer for {outcome}"),
    };

    private bool HasSecret(IHeaderDictionary headers)
    {
        if (!headers.TryGetValue(_options.SecretHeader, out var values) || values.Count != 1)
        {
            return false;
        }
        // Digests of equal length compared in constant time: neither the value nor its length leaks.
        var given = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(values[0] ?? ""));
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(given, _secretDigest);
    }

    private static LoginChannel Channel(MailProxyProtocol protocol) => protocol switch
    {
        MailProxyProtocol.Imap => LoginChannel.AuthHttpImap,
        MailProxyProtocol.Pop3 => LoginChannel.AuthHttpPop3,
        _ => LoginChannel.AuthHttpSmtp,
    };

    private static string Name(MailProxyProtocol protocol) => protocol switch
    {
        MailProxyProtocol.Imap => "IMAP",
        MailProxyProtocol.Pop3 => "POP3",
        _ => "SMTP",
    };

    [LoggerMessage(EventId = 821, Level = LogLevel.Warning, Message = "auth-http request refused: {Reason}")]
    private partial void LogRefused(string reason);

    [LoggerMessage(EventId = 822, Level = LogLevel.Warning,
        Message = "auth-http: {Protocol} has no backend port for {Domain} (MailAuth:AuthHttp:DefaultBackend or Backends)")]
    private partial void LogNotOffered(string protocol, string domain);
}
