using System.Net;

namespace MailAuth.Server.Hosting;

/// <summary>The <c>MailAuth:Metrics</c> section: <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> over HTTP.</summary>
internal sealed class MetricsOptions
{
    /// <summary>Off by default: the counters describe the logins of every user.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// 0 = on the web listener (<c>MailAuth:Web:Port</c>, HTTPS, every address it binds);
    /// otherwise a port of its own on <see cref="BindAddress"/>.
    /// </summary>
    public int Port { get; set; }

    /// <summary>Loopback unless the operator names another address (a scraper on another host).</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <param name="webListener">Whether <c>MailAuth:Web:Port</c> is set, for <see cref="Port"/> 0.</param>
    public IEnumerable<string> Validate(bool webListener)
    {
        if (OptionRules.Port("MailAuth:Metrics:Port", Port) is { } port)
        {
            yield return port;
        }
        if (!IPAddress.TryParse(BindAddress, out _))
        {
            yield return $"MailAuth:Metrics:BindAddress must be an IP address, not '{BindAddress}'";
        }
        if (Enabled && Port == 0 && !webListener)
        {
            yield return "MailAuth:Metrics:Enabled is true but MailAuth:Metrics:Port is 0 (the web listener) and MailAuth:Web:Port is 0 (off): set one of them";
        }
    }
}
