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
        Assert.That(options.Validate(), Is.Empty);
    }

    [Test]
    public void EnabledOnTheWebListenerIsRefusedSinceThereIsNone()
    {
        Assert.That(new MetricsOptions { Enabled = true }.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:Metrics:Enabled is true but MailAuth:Metrics:Port is 0 (the web listener, which this version does not have): set a port of its own",
        }));
    }

    [TestCase(70000, "127.0.0.1", "MailAuth:Metrics:Port must be between 0 (disabled) and 65535, not 70000")]
    [TestCase(9187, "localhost", "MailAuth:Metrics:BindAddress must be an IP address, not 'localhost'")]
    public void ABadPortOrAddressIsNamed(int port, string address, string error) =>
        Assert.That(new MetricsOptions { Enabled = true, Port = port, BindAddress = address }.Validate(), Is.EqualTo(new[] { error }));
}
