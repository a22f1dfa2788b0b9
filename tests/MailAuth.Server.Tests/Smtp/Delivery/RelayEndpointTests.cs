using MailAuth.Server.Smtp.Delivery;

namespace MailAuth.Server.Tests.Smtp.Delivery;

[TestFixture]
public sealed class RelayEndpointTests
{
    [TestCase("127.0.0.1:25", "127.0.0.1", 25)]
    [TestCase("smarthost.example:587", "smarthost.example", 587)]
    [TestCase("[::1]:2525", "::1", 2525)]
    public void ParsesRelayHosts(string text, string host, int port)
    {
        Assert.That(RelayEndpoint.TryParse(text, out var endpoint), Is.True);
        Assert.That(endpoint, Is.EqualTo(new RelayEndpoint(host, port)));
    }

    [TestCase("smarthost.example")]
    [TestCase("smarthost.example:")]
    [TestCase(":25")]
    [TestCase("smarthost.example:0")]
    [TestCase("smarthost.example:65536")]
    [TestCase("smarthost.example:smtp")]
    [TestCase("::1:25")]
    public void RefusesMalformedRelayHosts(string text)
    {
        Assert.That(RelayEndpoint.TryParse(text, out var endpoint), Is.False);
        Assert.That(endpoint, Is.Null);
    }
}
