namespace MailAuth.Server.Hosting;

/// <summary>The <c>MailAuth:Tls:Acme</c> section: a certificate obtained and renewed by MailAuth itself (RFC 8555).</summary>
internal sealed class AcmeOptions
{
    public const string LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory";

    /// <summary>Off by default: the CA must reach this host's port 80 (or 443) by the names it asks for.</summary>
    public bool Enabled { get; set; }

    /// <summary>The CA's directory (RFC 8555 §7.1.1); any ACME CA, Let's Encrypt by default.</summary>
    public string DirectoryUrl { get; set; } = LetsEncrypt;

    /// <summary>Where the CA writes about expiry and problems; empty registers no contact.</summary>
    public string Email { get; set; } = "";

    /// <summary>
    /// The names the certificate covers. Null until configured (the binder appends to an array
    /// that has items); then <see cref="EffectiveHostNames"/> is <c>MailAuth:Smtp:HostName</c>, to
    /// which <see cref="Tls.Acme.AcmeHostNames"/> adds the set-up names of the hosted domains.
    /// </summary>
    public string[]? HostNames { get; set; }

    /// <summary>PEM file of the roots that sign a private ACME CA's HTTPS certificate; empty: the system's.</summary>
    public string TrustedCaFile { get; set; } = "";

    /// <summary>
    /// How the CA checks this host: <c>http-01</c> on the web listener's plain-HTTP port (the CA
    /// connects to port 80), or <c>tls-alpn-01</c> (RFC 8737) on its HTTPS port (the CA connects to 443).
    /// </summary>
    public string Challenge { get; set; } = "http-01";

    public IReadOnlyList<string> EffectiveHostNames(SmtpOptions smtp) =>
        HostNames ?? [smtp.HostName.Length > 0 ? smtp.HostName : System.Net.Dns.GetHostName()];

    public IEnumerable<string> Validate(TlsOptions tls)
    {
        const string Section = "MailAuth:Tls:Acme";
        if (!Uri.TryCreate(DirectoryUrl, UriKind.Absolute, out var directory) || directory.Scheme != Uri.UriSchemeHttps)
        {
            // RFC 8555 §6.1: ACME is spoken over HTTPS only.
            yield return $"{Section}:DirectoryUrl must be an https:// URL, not '{DirectoryUrl}'";
        }
        if (Email.Length > 0 && (Email.Count(c => c == '@') != 1 || Email.Any(c => char.IsWhiteSpace(c) || c is ',' or '<' or '>')))
        {
            yield return $"{Section}:Email must be one address like postmaster@example.org, not '{Email}'";
        }
        foreach (var name in HostNames ?? [])
        {
            // HTTP-01 proves control of one name at one address: no wildcards (RFC 8555 §8.3), no IP addresses.
            if (name.Length is 0 or > 253 || name.StartsWith('.') || name.EndsWith('.') || name.Contains("..", StringComparison.Ordinal)
                || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-')) || System.Net.IPAddress.TryParse(name, out _))
            {
                yield return $"{Section}:HostNames: '{name}' is not a host name like mail.example.org (no wildcards or IP addresses)";
            }
        }
        if (HostNames is { Length: 0 })
        {
            yield return $"{Section}:HostNames is empty; leave it unset for MailAuth:Smtp:HostName";
        }
        if (Challenge is not ("http-01" or "tls-alpn-01"))
        {
            yield return $"{Section}:Challenge must be http-01 or tls-alpn-01, not '{Challenge}'";
        }
        if (Enabled && !string.IsNullOrEmpty(tls.CertificateFile))
        {
            yield return $"{Section}:Enabled is true and MailAuth:Tls:CertificateFile is set: choose one source of the certificate";
        }
    }
}
