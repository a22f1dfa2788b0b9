using MailAuth.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>Each section reports its own errors, each naming its key; all of them come out together.</summary>
[TestFixture]
public sealed class OptionsValidationTests
{
    private static IReadOnlyList<string> ErrorsOf(Dictionary<string, string?> settings)
    {
        var options = new MailAuthOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(MailAuthOptions.Section).Bind(options);
        return options.Validate();
    }

    [Test]
    public void TheDefaultsAreValid() => Assert.That(new MailAuthOptions().Validate(), Is.Empty);

    [TestCase("Imap:IdlePollIntervalMilliseconds", "99", "MailAuth:Imap:IdlePollIntervalMilliseconds must be at least 100, not 99")]
    [TestCase("Imap:IdlePollIntervalMilliseconds", "0", "MailAuth:Imap:IdlePollIntervalMilliseconds must be at least 100, not 0")]
    [TestCase("Imap:MaxLiteralSize", "0", "MailAuth:Imap:MaxLiteralSize must be at least 1, not 0")]
    [TestCase("Imap:MaxLiteralSizeBeforeLogin", "0", "MailAuth:Imap:MaxLiteralSizeBeforeLogin must be at least 1, not 0")]
    [TestCase("Imap:MaxSearchKeys", "0", "MailAuth:Imap:MaxSearchKeys must be at least 1, not 0")]
    [TestCase("Imap:MaxSearchMilliseconds", "0", "MailAuth:Imap:MaxSearchMilliseconds must be at least 1, not 0")]
    [TestCase("Imap:TlsPort", "65536", "MailAuth:Imap:TlsPort must be between 0 (disabled) and 65535, not 65536")]
    [TestCase("Imap:IdleTimeoutSeconds", "0", "MailAuth:Imap:IdleTimeoutSeconds must be at least 1, not 0")]
    [TestCase("Smtp:MaxMessageSize", "0", "MailAuth:Smtp:MaxMessageSize must be at least 1, not 0")]
    [TestCase("Smtp:RelayTimeoutSeconds", "0", "MailAuth:Smtp:RelayTimeoutSeconds must be at least 1, not 0")]
    [TestCase("Smtp:RelayHost", "smarthost.example", "MailAuth:Smtp:RelayHost must be host:port (or [IPv6]:port), not 'smarthost.example'")]
    [TestCase("Tls:KeyFile", "key.pem", "MailAuth:Tls:CertificateFile and MailAuth:Tls:KeyFile must be set together")]
    [TestCase("Authentication:Throttle:RecentSuccessHours", "2147483647",
        "MailAuth:Authentication:Throttle:RecentSuccessHours must be at most 256204778, not 2147483647")]
    public void AnOutOfRangeValueIsAnErrorNamingItsKey(string key, string value, string error) =>
        Assert.That(ErrorsOf(new() { ["MailAuth:" + key] = value }), Is.EqualTo(new[] { error }));

    [Test]
    public void TheIdlePollIntervalIsUsedAsConfigured()
    {
        var options = new MailAuthOptions();
        options.Imap.IdlePollIntervalMilliseconds = 100;
        Assert.That(options.Imap.IdlePollInterval, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
    }

    [Test]
    public void EverySectionsErrorsComeOutTogether()
    {
        var errors = ErrorsOf(new()
        {
            ["MailAuth:Hashing:Workers"] = "-1",
            ["MailAuth:Authentication:Throttle:PairFailures"] = "0",
            ["MailAuth:Imap:IdlePollIntervalMilliseconds"] = "10",
            ["MailAuth:Smtp:HostName"] = "mail example",
            ["MailAuth:SaslService:TcpPort"] = "-1",
            ["MailAuth:AuthHttp:MaxRequestBytes"] = "100",
        });
        Assert.That(errors, Is.EqualTo(new[]
        {
            "MailAuth:Hashing:Workers is -1; it must be 0 (one per core) or more.",
            "MailAuth:Authentication:Throttle:PairFailures must be at least 1, not 0",
            "MailAuth:Imap:IdlePollIntervalMilliseconds must be at least 100, not 10",
            "MailAuth:Smtp:HostName must be a host name like mail.example.org, not 'mail example'",
            "MailAuth:SaslService:TcpPort must be between 0 (disabled) and 65535, not -1",
            "MailAuth:AuthHttp:MaxRequestBytes must be at least 2048, not 100",
        }));
        Assert.That(ConfigurationException.Invalid(errors).Message, Does.StartWith(
            "invalid configuration: MailAuth:Hashing:Workers is -1; it must be 0 (one per core) or more; MailAuth:Authentication:Throttle:PairFailures must be at least 1, not 0; "));
    }
}
