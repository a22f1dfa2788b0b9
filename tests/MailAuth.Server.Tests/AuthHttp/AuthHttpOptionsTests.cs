using MailAuth.Server.AuthHttp;
using MailAuth.Server.Hosting;

namespace MailAuth.Server.Tests.AuthHttp;

[TestFixture]
public sealed class AuthHttpOptionsTests
{
    [Test]
    public void DefaultsAreValidAndOff()
    {
        var options = new MailAuthOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.Validate(), Is.Empty);
            Assert.That(options.AuthHttp.Port, Is.Zero);
            Assert.That(options.AuthHttp.SocketPath, Is.Empty);
            Assert.That(options.AuthHttp.AllowPlaintextWithoutTls, Is.False);
            Assert.That(options.AuthHttp.AllowedUsers, Is.Null);
            Assert.That(options.AuthHttp.TrustedNetworksApply, Is.False);
        });
    }

    [Test]
    public void TheTcpPortNeedsASharedSecretAndTheSocketDoesNot()
    {
        var tcp = new MailAuthOptions();
        tcp.AuthHttp.Port = 9143;
        var socket = new MailAuthOptions();
        socket.AuthHttp.SocketPath = "auth-http.sock";

        Assert.That(tcp.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:AuthHttp:SharedSecret is required when MailAuth:AuthHttp:Port is set (nginx sends it with auth_http_header; or use MailAuth:AuthHttp:SocketPath)",
        }));
        Assert.That(socket.Validate(), Is.Empty);
        tcp.AuthHttp.SharedSecret = "long random text";
        Assert.That(tcp.Validate(), Is.Empty);
    }

    [TestCase("Port", "70000", "MailAuth:AuthHttp:Port must be between 0 (disabled) and 65535, not 70000")]
    [TestCase("RetryWaitSeconds", "0", "MailAuth:AuthHttp:RetryWaitSeconds must be at least 1, not 0")]
    [TestCase("MaxLoginAttempts", "0", "MailAuth:AuthHttp:MaxLoginAttempts must be at least 1, not 0")]
    [TestCase("MaxConnections", "0", "MailAuth:AuthHttp:MaxConnections must be at least 1, not 0")]
    [TestCase("MaxRequestBytes", "100", "MailAuth:AuthHttp:MaxRequestBytes must be at least 2048, not 100")]
    public void InvalidNumbersAreNamed(string key, string value, string error)
    {
        var options = new MailAuthOptions();
        typeof(AuthHttpOptions).GetProperty(key)!.SetValue(options.AuthHttp, int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));

        Assert.That(options.Validate(), Does.Contain(error));
    }

    [Test]
    public void ASecretNeedsAHeaderNameAndNoControlCharacters()
    {
        var options = new MailAuthOptions();
        options.AuthHttp.SharedSecret = "a\nb";
        options.AuthHttp.SecretHeader = "X Secret:";

        Assert.That(options.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:AuthHttp:SecretHeader must be an HTTP header name such as X-MailAuth-Secret, not 'X Secret:'",
            "MailAuth:AuthHttp:SharedSecret may not contain control characters (nginx sends it as a header value)",
        }));
    }

    [Test]
    public void BackendsNeedAnIpAddressAndPortsInRange()
    {
        var options = new MailAuthOptions();
        options.AuthHttp.DefaultBackend = new AuthHttpBackend { Address = "mail.example", SmtpPort = 65536 };
        options.AuthHttp.Backends["family.example"] = new AuthHttpBackend { ImapPort = -1 };
        options.AuthHttp.Backends["bad domain"] = new AuthHttpBackend { Address = "192.0.2.1" };

        Assert.That(options.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:AuthHttp:DefaultBackend:Address must be an IP address (nginx does not resolve names in an auth_http answer), not 'mail.example'",
            "MailAuth:AuthHttp:DefaultBackend:SmtpPort must be between 0 (not offered) and 65535, not 65536",
            "MailAuth:AuthHttp:Backends:family.example:Address is required",
            "MailAuth:AuthHttp:Backends:family.example:ImapPort must be between 0 (not offered) and 65535, not -1",
            "MailAuth:AuthHttp:Backends: 'bad domain' is not a domain name (the domain contains spaces or control characters)",
        }));
    }

    [Test]
    public void UnsetTheDefaultBackendIsThisServersPlainImapPortAndDomainsInheritItsPorts()
    {
        var options = new MailAuthOptions();
        options.Imap.Port = 1143;
        options.AuthHttp.Backends["Bücher.Example"] = new AuthHttpBackend { Address = "2001:db8::25", SmtpPort = 25 };

        var backends = new MailBackends(options);

        Assert.Multiple(() =>
        {
            Assert.That(backends.For("family.example", MailProxyProtocol.Imap).ToString(), Is.EqualTo("MailBackendEndpoint { Address = 127.0.0.1, Port = 1143 }"));
            Assert.That(backends.For(null, MailProxyProtocol.Pop3).Port, Is.Zero);
            Assert.That(backends.For("family.example", MailProxyProtocol.Smtp).Port, Is.Zero);
            // Keys are normalised as addresses are: the IDN in its ASCII form, lower case.
            Assert.That(backends.For("xn--bcher-kva.example", MailProxyProtocol.Imap).ToString(), Is.EqualTo("MailBackendEndpoint { Address = 2001:db8::25, Port = 1143 }"));
            Assert.That(backends.For("xn--bcher-kva.example", MailProxyProtocol.Smtp).Port, Is.EqualTo(25));
        });
    }
}
