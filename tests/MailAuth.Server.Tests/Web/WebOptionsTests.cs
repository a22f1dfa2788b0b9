using MailAuth.Server.Hosting;

namespace MailAuth.Server.Tests.Web;

[TestFixture]
public sealed class WebOptionsTests
{
    [Test]
    public void OffByDefaultAndValid()
    {
        var options = new WebOptions();
        Assert.That((options.Enabled, options.Port, options.HttpPort, options.BindAddress), Is.EqualTo((false, 0, 0, "*")));
        Assert.That(options.Validate(), Is.Empty);
    }

    [Test]
    public void EachProblemNamesItsKey()
    {
        var options = new WebOptions
        {
            Port = 70000,
            BindAddress = "localhost",
            MaxRequestBodyBytes = 10,
            RequestHeadersTimeoutSeconds = 0,
            MaxRequestsPerMinutePerAddress = 0,
        };
        Assert.That(options.Validate(), Is.EquivalentTo(new[]
        {
            "MailAuth:Web:Port must be between 0 (disabled) and 65535, not 70000",
            "MailAuth:Web:MaxRequestBodyBytes must be at least 4096, not 10",
            "MailAuth:Web:RequestHeadersTimeoutSeconds must be at least 1, not 0",
            "MailAuth:Web:MaxRequestsPerMinutePerAddress must be at least 1, not 0",
            "MailAuth:Web:BindAddress must be * or an IP address, not 'localhost'",
        }));
    }

    [Test]
    public void PlainHttpNeedsTheHttpsPortAndAPortOfItsOwn()
    {
        Assert.That(new WebOptions { HttpPort = 80 }.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:Web:HttpPort is set but MailAuth:Web:Port is 0: plain HTTP redirects to the HTTPS port, set it too",
        }));
        Assert.That(new WebOptions { Port = 8443, HttpPort = 8443 }.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:Web:Port and MailAuth:Web:HttpPort are both 8443: HTTPS and plain HTTP need ports of their own",
        }));
    }

    [Test]
    public void MetricsOnPortZeroAreAcceptedOnceTheWebListenerIsOn()
    {
        var options = new MailAuthOptions { Metrics = { Enabled = true } };
        Assert.That(options.Validate(), Has.Some.StartsWith("MailAuth:Metrics:Enabled is true but MailAuth:Metrics:Port is 0"));
        options.Web.Port = 8443;
        Assert.That(options.Validate(), Is.Empty);
    }
}
