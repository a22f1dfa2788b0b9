using System.Net;

namespace MailAuth.Server.Hosting;

/// <summary>The <c>MailAuth:Metrics</c> section: <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> over HTTP.</summary>
internal sealed class MetricsOptions
{
    /// <summary>Off by default: the counters describe the logins of every user.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// 0 = on the web listener (this version has none, so enabled metrics need a port of their own);
    /// otherwise a port of its own on <see cref="BindAddress"/>.
    /// </summary>
    public int Port { get; set; }

    /// <summary>Loopback unless the operator names another address (a scraper on another host).</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    public IEnumerable<string> Validate()
    {
        if (OptionRules.Port("MailAuth:Metrics:Port", Port) is { } port)
        {
            yield return port;
        }
        if (!IPAddress.TryParse(BindAddress, out _))
        {
            yield return $"MailAuth:Metrics:BindAddress must be an IP address, not '{BindAddress}'";
        }
        if (Enabled && Port == 0)
        {
            yield return "MailAuth:Metrics:Enabled is true but MailAuth:Metrics:Port is 0 (the web listener, which this version does not have): set a port of its own";
        }
    }
}
