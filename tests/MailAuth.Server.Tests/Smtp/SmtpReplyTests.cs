using System.Reflection;
using System.Text.RegularExpressions;
using MailAuth.Server.Smtp;

namespace MailAuth.Server.Tests.Smtp;

[TestFixture]
public sealed class SmtpReplyTests
{
    private static IEnumerable<string> Names() =>
        typeof(SmtpReply).GetFields(BindingFlags.Public | BindingFlags.Static).Where(field => field.IsLiteral).Select(field => field.Name);

    private static string Text(string name) => (string)typeof(SmtpReply).GetField(name)!.GetRawConstantValue()!;

    [TestCaseSource(nameof(Names))]
    public void EachReplyIsOneLineWithACodeAndAMatchingEnhancedCode(string name)
    {
        var text = Text(name);
        Assert.That(text, Does.Not.Contain('\r').And.Not.Contain('\n'));
        var match = Regex.Match(text, @"^([2-5])\d\d[ -](?:([245])\.\d{1,3}\.\d{1,3} )?\S");
        Assert.That(match.Success, Is.True, text);
        // RFC 3463 §2: the enhanced code's class is the reply code's first digit; 3xx replies carry none.
        Assert.That(match.Groups[2].Success ? match.Groups[2].Value : "3", Is.EqualTo(match.Groups[1].Value), text);
    }

    [Test]
    public void NoTwoNamesShareAText()
    {
        var texts = Names().Select(Text).ToList();
        Assert.That(texts, Is.Unique);
    }

    [Test]
    public void RepliesWithAVariablePartKeepTheirShape()
    {
        Assert.That(SmtpReply.Greeting("mx.family.example"), Is.EqualTo("220 mx.family.example ESMTP MailAuth"));
        Assert.That(SmtpReply.EhloExtension("PIPELINING", last: false), Is.EqualTo("250-PIPELINING"));
        Assert.That(SmtpReply.EhloExtension("HELP", last: true), Is.EqualTo("250 HELP"));
        Assert.That(SmtpReply.SessionEnded("Your password was changed"), Is.EqualTo("421 4.7.0 Your password was changed, closing connection"));
        Assert.That(SmtpReply.MessageAccepted("0A1B"), Is.EqualTo("250 2.0.0 Message accepted as 0A1B"));
    }
}
