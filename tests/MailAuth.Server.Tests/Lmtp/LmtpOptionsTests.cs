using MailAuth.Server.Hosting;

namespace MailAuth.Server.Tests.Lmtp;

[TestFixture]
public sealed class LmtpOptionsTests
{
    [Test]
    public void DefaultsAreValidAndOff()
    {
        var options = new MailAuthOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.Validate(), Is.Empty);
            Assert.That((options.Lmtp.TcpPort, options.Lmtp.SocketPath, options.Lmtp.AllowedUsers), Is.EqualTo((0, "", (string[]?)null)));
            Assert.That((options.Socketmap.TcpPort, options.Socketmap.SocketPath, options.Socketmap.AllowedUsers), Is.EqualTo((0, "", (string[]?)null)));
        });
    }

    [Test]
    public void EveryProblemNamesItsKey()
    {
        var options = new MailAuthOptions();
        options.Lmtp.TcpPort = 70000;
        options.Lmtp.MaxLineLength = 100;
        options.Lmtp.MaxRecipients = 50;
        options.Lmtp.MaxMessageSize = 0;
        options.Lmtp.AllowedUsers = ["no-such-user-here"];
        options.Socketmap.MaxRequestLength = 10;
        options.Socketmap.IdleTimeoutSeconds = 0;
        options.Socketmap.SocketPath = new string('s', 120);

        Assert.That(options.Validate(), Is.SupersetOf(new[]
        {
            "MailAuth:Lmtp:TcpPort must be between 0 (disabled) and 65535, not 70000",
            "MailAuth:Lmtp:MaxLineLength must be at least 512 (RFC 5321 minimum), not 100",
            "MailAuth:Lmtp:MaxRecipients must be at least 100 (RFC 5321 §4.5.3.1.8), not 50",
            "MailAuth:Lmtp:MaxMessageSize must be at least 1, not 0",
            "MailAuth:Socketmap:MaxRequestLength must be at least 300, not 10",
            "MailAuth:Socketmap:IdleTimeoutSeconds must be at least 1, not 0",
        }));
        Assert.That(options.Validate(), Has.One.StartsWith("MailAuth:Lmtp:AllowedUsers"));
        Assert.That(options.Validate(), Has.One.StartsWith("MailAuth:Socketmap:SocketPath ").And.Contains("longer than the 108 bytes"));
    }
}
