using System.Net;
using MailAuth.Core.Addresses;

namespace MailAuth.Server.Hosting;

/// <summary>The nginx mail proxy's <c>auth_http</c> endpoint (HTTP on loopback).</summary>
internal sealed class AuthHttpOptions
{
    /// <summary>TCP port on 127.0.0.1 only (<c>auth_http 127.0.0.1:PORT/auth</c>); 0 turns it off. Needs <see cref="SharedSecret"/>.</summary>
    public int Port { get; set; }

    /// <summary>UNIX socket (<c>auth_http unix:PATH:/auth</c>); relative paths are in the data directory; empty turns it off.</summary>
    public string SocketPath { get; set; } = "";

    /// <summary>Header nginx adds with <c>auth_http_header</c>; checked only when <see cref="SharedSecret"/> is set.</summary>
    public string SecretHeader { get; set; } = "X-MailAuth-Secret";

    /// <summary>
    /// When set, a request without this value in <see cref="SecretHeader"/> is refused (403). Required
    /// with <see cref="Port"/>: the secret, with the uid check, keeps a local process from asking with
    /// a Client-IP of its choice.
    /// </summary>
    public string SharedSecret { get; set; } = "";

    /// <summary>
    /// Users (names or numeric uids) whose processes may connect, on the socket and the TCP port,
    /// besides root and the server's own user. Null until configured (the binder appends to an array
    /// that has items), then <see cref="DefaultAllowedUsers"/> where they exist.
    /// </summary>
    public string[]? AllowedUsers { get; set; }

    /// <summary>nginx's worker processes run as <c>www-data</c> on Debian and Ubuntu, <c>nginx</c> on Fedora and RHEL.</summary>
    public static readonly string[] DefaultAllowedUsers = ["www-data", "nginx"];

    /// <summary>
    /// Whether <c>MailAuth:Authentication:TrustedNetworks</c> exempt a Client-IP from the throttle.
    /// Off: a trusted address reported by the caller would turn off the throttle for every guess sent with it.
    /// </summary>
    public bool TrustedNetworksApply { get; set; }

    /// <summary>nginx says <c>Auth-SSL: on</c> when the client used TLS; otherwise the password is refused unless this is true.</summary>
    public bool AllowPlaintextWithoutTls { get; set; }

    /// <summary>Seconds nginx waits (Auth-Wait) before the client may try again after a failure.</summary>
    public int RetryWaitSeconds { get; set; } = 2;

    /// <summary>From this attempt on (Auth-Login-Attempt) a failure closes the client's connection: a person mistyping needs two or three.</summary>
    public int MaxLoginAttempts { get; set; } = 3;

    /// <summary>Open HTTP connections; nginx opens one per login and closes it after the answer.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Request line plus headers; nginx's request is under 1 KiB unless it passes a client certificate.</summary>
    public int MaxRequestBytes { get; set; } = 16 * 1024;

    /// <summary>Where mailboxes of domains without their own entry in <see cref="Backends"/> are served.</summary>
    public AuthHttpBackend DefaultBackend { get; set; } = new();

    /// <summary>Domain → backend; ports left out are those of <see cref="DefaultBackend"/>.</summary>
    public Dictionary<string, AuthHttpBackend> Backends { get; set; } = [];

    public IEnumerable<string> Validate()
    {
        const string Key = "MailAuth:AuthHttp";
        if (Port is < 0 or > 65535)
        {
            yield return $"{Key}:Port must be between 0 (disabled) and 65535, not {Port}";
        }
        if (Port != 0 && string.IsNullOrEmpty(SharedSecret))
        {
            yield return $"{Key}:SharedSecret is required when {Key}:Port is set (nginx sends it with auth_http_header; or use {Key}:SocketPath)";
        }
        foreach (var error in Protocol.AllowedCallers.Validate($"{Key}:AllowedUsers", AllowedUsers))
        {
            yield return error;
        }
        if (!string.IsNullOrEmpty(SharedSecret) && !IsHeaderName(SecretHeader))
        {
            yield return $"{Key}:SecretHeader must be an HTTP header name such as X-MailAuth-Secret, not '{SecretHeader}'";
        }
        if (SharedSecret.Any(char.IsControl))
        {
            yield return $"{Key}:SharedSecret may not contain control characters (nginx sends it as a header value)";
        }
        foreach (var (key, value) in new[]
        {
            ("RetryWaitSeconds", RetryWaitSeconds),
            ("MaxLoginAttempts", MaxLoginAttempts),
            ("MaxConnections", MaxConnections),
        })
        {
            if (value < 1)
            {
                yield return $"{Key}:{key} must be at least 1, not {value}";
            }
        }
        if (MaxRequestBytes < 2048)
        {
            yield return $"{Key}:MaxRequestBytes must be at least 2048, not {MaxRequestBytes}";
        }
        foreach (var error in DefaultBackend.Validate($"{Key}:DefaultBackend"))
        {
            yield return error;
        }
        foreach (var (domain, backend) in Backends)
        {
            if (!AddressNormalizer.TryNormalizeDomain(domain, out _, out var reason))
            {
                yield return $"{Key}:Backends: '{domain}' is not a domain name ({reason})";
            }
            if (string.IsNullOrEmpty(backend.Address))
            {
                yield return $"{Key}:Backends:{domain}:Address is required";
            }
            foreach (var error in backend.Validate($"{Key}:Backends:{domain}"))
            {
                yield return error;
            }
        }
    }

    private static bool IsHeaderName(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

/// <summary>
/// A mail server nginx hands the client to. nginx needs an IP address (it does not resolve
/// names in an auth_http answer); a port of 0 means that protocol is not offered there.
/// </summary>
internal sealed class AuthHttpBackend
{
    public string Address { get; set; } = "";

    public int? ImapPort { get; set; }

    public int? Pop3Port { get; set; }

    public int? SmtpPort { get; set; }

    public IEnumerable<string> Validate(string key)
    {
        if (!string.IsNullOrEmpty(Address) && !IPAddress.TryParse(Address, out _))
        {
            yield return $"{key}:Address must be an IP address (nginx does not resolve names in an auth_http answer), not '{Address}'";
        }
        foreach (var (name, port) in new[] { ("ImapPort", ImapPort), ("Pop3Port", Pop3Port), ("SmtpPort", SmtpPort) })
        {
            if (port is < 0 or > 65535)
            {
                yield return $"{key}:{name} must be between 0 (not offered) and 65535, not {port}";
            }
        }
    }
}
