using MailAuth.Server.Hosting;

namespace MailAuth.Server.Tests.Observability;

[TestFixture]
public sealed class MetricsOptionsTests
{
    [Test]
    public void OffByDefaultOnLoopback()
    {
        var options = new MetricsOptions();
        Assert.That((options.Enabled, options.Port, options.BindAddress), Is.EqualTo((false, 0, "127.0.0.1")));
        Assert.That(options.Validate(webListener: false), Is.Empty);
    }

    [Test]
    public void EnabledOnTheWebListenerIsRefusedWhenTheWebListenerIsOff()
    {
        Assert.That(new MetricsOptions { Enabled = true }.Validate(webListener: false), Is.EqualTo(new[]
        {
            "MailAuth:Metrics:Enabled is true but MailAuth:Metrics:Port is 0 (the web listener) and MailAuth:Web:Port is 0 (off): set one of them",
        }));
        Assert.That(new MetricsOptions { Enabled = true }.Validate(webListener: true), Is.Empty);
    }

    [TestCase(70000, "127.0.0.1", "MailAuth:Metrics:Port must be between 0 (disabled) and 65535, not 70000")]
    [TestCase(9187, "localhost", "MailAuth:Metrics:BindAddress must be an IP address, not 'localhost'")]
    public void ABadPortOrAddressIsNamed(int port, string address, string error) =>
        Assert.That(new MetricsOptions { Enabled = true, Port = port, BindAddress = address }.Validate(webListener: false), Is.EqualTo(new[] { error }));
}
