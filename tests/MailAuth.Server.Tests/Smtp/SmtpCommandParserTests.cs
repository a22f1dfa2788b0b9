using System.Text;
using MailAuth.Server.Smtp;

namespace MailAuth.Server.Tests.Smtp;

[TestFixture]
public sealed class SmtpCommandParserTests
{
    [TestCase("EHLO client.example", "EHLO", "client.example")]
    [TestCase("ehlo client.example", "EHLO", "client.example")]
    [TestCase("QUIT", "QUIT", "")]
    [TestCase("mail FROM:<a@b.example> SIZE=10", "MAIL", "FROM:<a@b.example> SIZE=10")]
    [TestCase("AUTH PLAIN  AGEAYg==", "AUTH", "PLAIN  AGEAYg==")]
    [TestCase("", "", "")]
    public void SplitsVerbAndArgument(string line, string verb, string argument)
    {
        Assert.That(SmtpCommandParser.TryParseLine(Encoding.UTF8.GetBytes(line), out var command), Is.True);
        Assert.That(command, Is.EqualTo(new SmtpCommand(verb, argument)));
    }

    [Test]
    public void RefusesLinesThatAreNotUtf8()
    {
        Assert.That(SmtpCommandParser.TryParseLine([(byte)'M', (byte)'A', 0xff, 0xfe], out _), Is.False);
    }

    [TestCase("FROM:<julie@family.example>", "julie@family.example", null, "SevenBit", false)]
    [TestCase("from:<julie@family.example>", "julie@family.example", null, "SevenBit", false)]
    [TestCase("FROM: <julie@family.example>", "julie@family.example", null, "SevenBit", false)] // common client space
    [TestCase("FROM:<>", "", null, "SevenBit", false)]
    [TestCase("FROM:<julie@family.example> SIZE=1234", "julie@family.example", 1234L, "SevenBit", false)]
    [TestCase("FROM:<julie@family.example> size=0 body=8bitmime", "julie@family.example", 0L, "EightBitMime", false)]
    [TestCase("FROM:<julie@family.example> BODY=7BIT", "julie@family.example", null, "SevenBit", false)]
    [TestCase("FROM:<jülie@family.example> SMTPUTF8 BODY=8BITMIME", "jülie@family.example", null, "EightBitMime", true)]
    [TestCase("FROM:<julie@family.example>  SIZE=5", "julie@family.example", 5L, "SevenBit", false)]
    [TestCase("FROM:<julie@family.example> AUTH=<>", "julie@family.example", null, "SevenBit", false)]
    [TestCase("FROM:<@relay.example:julie@family.example>", "julie@family.example", null, "SevenBit", false)] // source route dropped
    [TestCase("FROM:<julie@family.example> SIZE=99999999999999999999", "julie@family.example", long.MaxValue, "SevenBit", false)]
    public void ParsesMailFrom(string argument, string path, long? size, string body, bool smtpUtf8)
    {
        var ok = SmtpCommandParser.TryParseMailFrom(argument, out var command, out var error);
        Assert.That(ok, Is.True, error?.Reply);
        Assert.That(command, Is.EqualTo(new MailFromArguments(path, size, Enum.Parse<SmtpBodyType>(body), smtpUtf8)));
    }

    [TestCase("", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [TestCase("FROM:julie@family.example", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [TestCase("TO:<julie@family.example>", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [TestCase("FROM:<julie@family.example", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [TestCase("FROM:<julie@family.example>SIZE=1", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [TestCase("FROM:<julie>", "501 5.1.7 Bad sender address syntax")]
    [TestCase("FROM:<ju lie@family.example>", "501 5.1.7 Bad sender address syntax")]
    [TestCase("FROM:<julie@family.example> SIZE=abc", "501 5.5.4 Invalid SIZE parameter")]
    [TestCase("FROM:<julie@family.example> SIZE=", "501 5.5.4 Invalid SIZE parameter")]
    [TestCase("FROM:<julie@family.example> SIZE=-1", "501 5.5.4 Invalid SIZE parameter")]
    [TestCase("FROM:<julie@family.example> SIZE=123456789012345678901", "501 5.5.4 Invalid SIZE parameter")]
    [TestCase("FROM:<julie@family.example> BODY=BINARYMIME", "555 5.5.4 Unsupported BODY type")]
    [TestCase("FROM:<julie@family.example> RET=HDRS", "555 5.5.4 Unsupported MAIL parameter RET")]
    [TestCase("FROM:<julie@family.example> SMTPUTF8=yes", "555 5.5.4 Unsupported MAIL parameter SMTPUTF8")]
    public void RefusesBadMailFrom(string argument, string reply)
    {
        Assert.That(SmtpCommandParser.TryParseMailFrom(argument, out var command, out var error), Is.False);
        Assert.That(command, Is.Null);
        Assert.That(error!.Reply, Is.EqualTo(reply));
    }

    [TestCase("TO:<anna@family.example>", "anna@family.example")]
    [TestCase("to: <anna@family.example>", "anna@family.example")]
    [TestCase("TO:<Anna@Family.Example>", "Anna@Family.Example")]
    [TestCase("TO:<@a.example,@b.example:anna@family.example>", "anna@family.example")]
    public void ParsesRcptTo(string argument, string path)
    {
        Assert.That(SmtpCommandParser.TryParseRcptTo(argument, out var command, out var error), Is.True, error?.Reply);
        Assert.That(command, Is.EqualTo(new RcptToArguments(path)));
    }

    [TestCase("TO:<>", "501 5.5.4 Syntax: RCPT TO:<address>")]
    [TestCase("FROM:<anna@family.example>", "501 5.5.4 Syntax: RCPT TO:<address>")]
    [TestCase("TO:anna@family.example", "501 5.5.4 Syntax: RCPT TO:<address>")]
    [TestCase("TO:<anna>", "501 5.1.3 Bad recipient address syntax")]
    [TestCase("TO:<anna@family.example> NOTIFY=NEVER", "555 5.5.4 Unsupported RCPT parameter NOTIFY")]
    public void RefusesBadRcptTo(string argument, string reply)
    {
        Assert.That(SmtpCommandParser.TryParseRcptTo(argument, out _, out var error), Is.False);
        Assert.That(error!.Reply, Is.EqualTo(reply));
    }

    [TestCase("PLAIN", "PLAIN", null)]
    [TestCase("plain AGEAYg==", "plain", "AGEAYg==")]
    [TestCase("PLAIN  AGEAYg==", "PLAIN", "AGEAYg==")] // Windows Mail's two spaces
    [TestCase("LOGIN =", "LOGIN", "=")]
    public void ParsesAuth(string argument, string mechanism, string? initialResponse)
    {
        Assert.That(SmtpCommandParser.TryParseAuth(argument, out var command, out _), Is.True);
        Assert.That(command, Is.EqualTo(new AuthArguments(mechanism, initialResponse)));
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("PLAIN a b")]
    public void RefusesBadAuth(string argument)
    {
        Assert.That(SmtpCommandParser.TryParseAuth(argument, out _, out var error), Is.False);
        Assert.That(error!.Reply, Is.EqualTo("501 5.5.4 Syntax: AUTH mechanism [initial-response]"));
    }

    [TestCase("plain text", "plain text")]
    [TestCase("a\u0001b\u00e9", "a?b?")]
    public void EchoesOnlyPrintableAscii(string input, string expected)
    {
        Assert.That(SmtpCommandParser.Printable(input), Is.EqualTo(expected));
    }
}
