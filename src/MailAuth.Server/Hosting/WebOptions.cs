using System.Net;

namespace MailAuth.Server.Hosting;

/// <summary>
/// The <c>MailAuth:Web</c> section: the HTTPS listener for mail clients' set-up look-ups (autoconfig,
/// Autodiscover, Apple profiles), the mailbox holder's API and, with <c>MailAuth:Metrics:Port</c> 0,
/// the monitoring endpoints; and a plain-HTTP port for what clients fetch without TLS.
/// </summary>
internal sealed class WebOptions
{
    /// <summary>HTTPS with the server certificate; 0 (the default) turns the web listener off.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Plain HTTP: Thunderbird's <c>http://autoconfig.DOMAIN/…</c> and ACME HTTP-01 challenges are
    /// answered, everything else is redirected to <see cref="Port"/>; 0 turns it off.
    /// </summary>
    public int HttpPort { get; set; }

    /// <summary><c>*</c> is every IPv6 and IPv4 address, like <c>MailAuth:BindAddress</c>.</summary>
    public string BindAddress { get; set; } = "*";

    /// <summary>Open connections on both ports together: each holds a socket and, on HTTPS, a TLS session.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Request line and headers: a browser with cookies sends under 8 KiB; Kestrel's own default is 32 KiB.</summary>
    public int MaxRequestHeaderBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// A request body, refused (413) from its Content-Length or as it streams: Outlook's Autodiscover
    /// request is under 1 KiB and a JSON call with an address and two passwords under 3 KiB.
    /// </summary>
    public int MaxRequestBodyBytes { get; set; } = 16 * 1024;

    /// <summary>Time for the request line and headers to arrive: real clients send them at once (slowloris).</summary>
    public int RequestHeadersTimeoutSeconds { get; set; } = 10;

    /// <summary>Time an idle kept-alive connection stays open.</summary>
    public int KeepAliveTimeoutSeconds { get; set; } = 30;

    /// <summary>Time for a client to complete the TLS handshake.</summary>
    public int TlsHandshakeTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Requests per minute from one client network (an IPv4 address or an IPv6 /64), every path
    /// together, before 429: a client setting up an account makes a handful, a scanner thousands.
    /// Password checks are also throttled by failures like any mail login.
    /// </summary>
    public int MaxRequestsPerMinutePerAddress { get; set; } = 120;

    /// <summary>
    /// The address people reach the pages at (<c>https://mail.example.net</c>, behind a proxy its
    /// public one), for links in messages; empty: the https origin of the request that asked.
    /// </summary>
    public string PublicUrl { get; set; } = "";

    public bool Enabled => Port != 0;

    public IEnumerable<string> Validate()
    {
        const string Key = "MailAuth:Web";
        var errors = new List<string?>
        {
            OptionRules.Port(Key + ":Port", Port),
            OptionRules.Port(Key + ":HttpPort", HttpPort),
            OptionRules.AtLeast(Key + ":MaxConnections", MaxConnections, 1),
            OptionRules.AtLeast(Key + ":MaxRequestHeaderBytes", MaxRequestHeaderBytes, 4096),
            OptionRules.AtLeast(Key + ":MaxRequestBodyBytes", MaxRequestBodyBytes, 4096),
            OptionRules.AtLeast(Key + ":RequestHeadersTimeoutSeconds", RequestHeadersTimeoutSeconds, 1),
            OptionRules.AtLeast(Key + ":KeepAliveTimeoutSeconds", KeepAliveTimeoutSeconds, 1),
            OptionRules.AtLeast(Key + ":TlsHandshakeTimeoutSeconds", TlsHandshakeTimeoutSeconds, 1),
            OptionRules.AtLeast(Key + ":MaxRequestsPerMinutePerAddress", MaxRequestsPerMinutePerAddress, 1),
        };
        if (BindAddress != "*" && !IPAddress.TryParse(BindAddress, out _))
        {
            errors.Add($"{Key}:BindAddress must be * or an IP address, not '{BindAddress}'");
        }
        if (PublicUrl.Length > 0 && !(Uri.TryCreate(PublicUrl, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps && url.Query.Length == 0))
        {
            errors.Add($"{Key}:PublicUrl must be an https:// address without a query, not '{PublicUrl}'");
        }
        if (HttpPort != 0 && Port == 0)
        {
            errors.Add($"{Key}:HttpPort is set but {Key}:Port is 0: plain HTTP redirects to the HTTPS port, set it too");
        }
        if (Port != 0 && Port == HttpPort)
        {
            errors.Add($"{Key}:Port and {Key}:HttpPort are both {Port}: HTTPS and plain HTTP need ports of their own");
        }
        return errors.OfType<string>();
    }
}
