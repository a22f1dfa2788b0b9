using System.Text;
using MailAuth.Server.SaslService;

namespace MailAuth.Server.Tests.SaslService;

[TestFixture]
public sealed class DovecotAuthParserTests
{
    private static DovecotParseResult Parse(string line) => DovecotAuthParser.Parse(Encoding.UTF8.GetBytes(line));

    [Test]
    public void AuthAsPostfixSendsIt()
    {
        var result = Parse("AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.7\tsecured\tresp=AGEAYg==");

        Assert.That(result.Line, Is.Not.Null);
        var line = result.Line!;
        Assert.Multiple(() =>
        {
            Assert.That(line.Kind, Is.EqualTo(DovecotAuthCommandKind.Auth));
            Assert.That(line.Id, Is.EqualTo(7u));
            Assert.That(line.Mechanism, Is.EqualTo("PLAIN"));
            Assert.That(line.Get("service"), Is.EqualTo("smtp"));
            Assert.That(line.Get("rip"), Is.EqualTo("192.0.2.7"));
            Assert.That(line.Has("secured"), Is.True);
            Assert.That(line.Has("nologin"), Is.True);
            Assert.That(line.HasResponse, Is.True);
            Assert.That(line.Response, Is.EqualTo("AGEAYg=="));
        });
    }

    [Test]
    public void AuthWithoutRespHasNoResponse()
    {
        var line = Parse("AUTH\t1\tLOGIN\tservice=smtp").Line!;

        Assert.That(line.HasResponse, Is.False);
    }

    [TestCase("VERSION\t1\t0", "Version")]
    [TestCase("VERSION\t1\t2", "Version")]
    [TestCase("CPID\t1234", "Cpid")]
    [TestCase("CONT\t3\tdXNlcg==", "Cont")]
    [TestCase("CONT\t3\t", "Cont")]
    public void WellFormedLines(string text, string kind)
    {
        Assert.That(Parse(text).Line?.Kind.ToString(), Is.EqualTo(kind));
    }

    [TestCase("AUTH\t5\tPLAIN\tservice=smtp\tresp=AGEAYg==\tsecured", "resp= must be the last parameter")]
    [TestCase("AUTH\t5\tPLAIN\tservice=smtp\tresp", "resp needs a value (resp=base64)")]
    [TestCase("AUTH\t5\tPLAIN\trip=127.0.0.1", "AUTH needs service=")]
    [TestCase("AUTH\t5\tPLAIN\tservice=", "AUTH needs service=")]
    [TestCase("AUTH\t5", "AUTH needs a mechanism")]
    [TestCase("AUTH\t5\t\tservice=smtp", "AUTH needs a mechanism")]
    [TestCase("AUTH\t5\tPLAIN\tservice=smtp\t=x", "empty parameter name")]
    [TestCase("CONT\t5", "CONT needs exactly one response")]
    [TestCase("CONT\t5\ta\tb", "CONT needs exactly one response")]
    public void RefusalsTiedToARequestId(string text, string error)
    {
        var result = Parse(text);

        Assert.Multiple(() =>
        {
            Assert.That(result.Line, Is.Null);
            Assert.That(result.FailId, Is.EqualTo(5u));
            Assert.That(result.Error, Is.EqualTo(error));
        });
    }

    [TestCase("")]
    [TestCase("HELLO")]
    [TestCase("auth\t1\tPLAIN\tservice=smtp")]
    [TestCase("AUTH\tx\tPLAIN\tservice=smtp")]
    [TestCase("AUTH\t-1\tPLAIN\tservice=smtp")]
    [TestCase("AUTH\t99999999999\tPLAIN\tservice=smtp")]
    [TestCase("AUTH")]
    [TestCase("CONT\t\tdXNlcg==")]
    [TestCase("VERSION\t1")]
    [TestCase("VERSION\tone\ttwo")]
    [TestCase("CPID")]
    [TestCase("CPID\tabc")]
    public void LinesWithoutAUsableIdCloseTheConnection(string text)
    {
        var result = Parse(text);

        Assert.Multiple(() =>
        {
            Assert.That(result.Line, Is.Null);
            Assert.That(result.FailId, Is.Null);
            Assert.That(result.Error, Is.Not.Null);
        });
    }

    [Test]
    public void InvalidUtf8ClosesTheConnection()
    {
        var result = DovecotAuthParser.Parse([0x41, 0x55, 0x54, 0x48, 0x09, 0xff, 0xfe]);

        Assert.That(result.FailId, Is.Null);
        Assert.That(result.Line, Is.Null);
    }
}
