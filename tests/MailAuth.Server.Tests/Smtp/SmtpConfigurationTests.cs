namespace MailAuth.Server.Tests.Smtp;

[TestFixture]
public sealed class SmtpConfigurationTests
{
    [TestCase("MailAuth__Smtp__RelayHost", "smarthost.example",
        "error: invalid configuration: MailAuth:Smtp:RelayHost must be host:port (or [IPv6]:port), not 'smarthost.example'")]
    [TestCase("MailAuth__Smtp__RelayTimeoutSeconds", "0",
        "error: invalid configuration: MailAuth:Smtp:RelayTimeoutSeconds must be at least 1, not 0")]
    [TestCase("MailAuth__Smtp__HostName", "mail example",
        "error: invalid configuration: MailAuth:Smtp:HostName must be a host name like mail.example.org, not 'mail example'")]
    public async Task ServeRefusesAnUnusableSmtpSetting(string key, string value, string error)
    {
        using var cli = new MailAuthProcess();
        cli.Environment["MailAuth__BindAddress"] = "127.0.0.1";
        foreach (var port in new[] { "Imap__Port", "Imap__TlsPort", "Smtp__SubmissionPort", "Smtp__SubmissionsPort" })
        {
            cli.Environment["MailAuth__" + port] = "0";
        }
        cli.Environment[key] = value;
        var result = await cli.RunAsync("serve");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr, Is.EqualTo(error + "\n"), result.ToString());
    }
}
