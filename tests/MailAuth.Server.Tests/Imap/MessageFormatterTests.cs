using System.Text;
using MailAuth.Server.Imap;
using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Tests.Imap;

[TestFixture]
public sealed class MessageFormatterTests
{
    private const string Multipart =
        "From: \"Anna B.\" <anna@family.example>\r\n" +
        "To: julie@family.example, team: bob@x.example, \"Carl\" <carl@x.example>;\r\n" +
        "Subject: =?UTF-8?Q?R=C3=A9union?=\r\n" +
        "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n" +
        "Message-ID: <m1@family.example>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/mixed;\r\n boundary=\"XX\"\r\n" +
        "\r\n" +
        "preamble\r\n" +
        "--XX\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "\r\n" +
        "Hello\r\nJulie\r\n" +
        "--XX\r\n" +
        "Content-Type: application/pdf; name=a.pdf\r\n" +
        "Content-Transfer-Encoding: base64\r\n" +
        "Content-Disposition: attachment; filename=\"a.pdf\"\r\n" +
        "\r\n" +
        "QUJD\r\n" +
        "--XX\r\n" +
        "Content-Type: message/rfc822\r\n" +
        "\r\n" +
        "Subject: inner\r\n" +
        "From: x@y.example\r\n" +
        "\r\n" +
        "inner body\r\n" +
        "--XX--\r\n" +
        "epilogue\r\n";

    private static MimeEntity Parse() => MimeEntity.Parse(Encoding.ASCII.GetBytes(Multipart));

    private static string Section(string section)
    {
        var attribute = FetchAttribute.Parse(new ImapReader(ImapCommandText.FromLine($"BODY[{section}]")));
        return Encoding.ASCII.GetString(MessageFormatter.Section(Parse(), attribute.Section!));
    }

    [TestCase("", Multipart)]
    [TestCase("1", "Hello\r\nJulie")]
    [TestCase("2", "QUJD")]
    [TestCase("2.MIME", "Content-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n\r\n")]
    [TestCase("3", "Subject: inner\r\nFrom: x@y.example\r\n\r\ninner body")]
    [TestCase("3.HEADER", "Subject: inner\r\nFrom: x@y.example\r\n\r\n")]
    [TestCase("3.TEXT", "inner body")]
    [TestCase("3.1", "inner body")]
    [TestCase("HEADER.FIELDS (SUBJECT message-id)", "Subject: =?UTF-8?Q?R=C3=A9union?=\r\nMessage-ID: <m1@family.example>\r\n\r\n")]
    [TestCase("4", "")]
    [TestCase("1.2", "")]
    public void SectionsAreTheExactBytes(string section, string expected) =>
        Assert.That(Section(section), Is.EqualTo(expected));

    [Test]
    public void HeaderAndTextSplitTheMessageExactly() =>
        Assert.That(Section("HEADER") + Section("TEXT"), Is.EqualTo(Multipart));

    [Test]
    public void HeaderFieldsNotKeepsFoldedLinesWhole() =>
        Assert.That(Section("HEADER.FIELDS.NOT (From To Subject Date Message-ID MIME-Version)"), Is.EqualTo("Content-Type: multipart/mixed;\r\n boundary=\"XX\"\r\n\r\n"));

    [Test]
    public void EnvelopeWithGroupsAndDisplayNames()
    {
        var output = new ImapResponseBuilder();
        MessageFormatter.Envelope(output, Parse());
        Assert.That(Encoding.ASCII.GetString(output.ToArray()), Is.EqualTo(
            "(\"Tue, 1 Jul 2003 10:52:37 +0200\" \"=?UTF-8?Q?R=C3=A9union?=\" " +
            "((\"Anna B.\" NIL \"anna\" \"family.example\")) ((\"Anna B.\" NIL \"anna\" \"family.example\")) ((\"Anna B.\" NIL \"anna\" \"family.example\")) " +
            "((NIL NIL \"julie\" \"family.example\")(NIL NIL \"team\" NIL)(NIL NIL \"bob\" \"x.example\")(\"Carl\" NIL \"carl\" \"x.example\")(NIL NIL NIL NIL)) " +
            "NIL NIL NIL \"<m1@family.example>\")"));
    }

    [Test]
    public void BodystructureOfAMultipartMessage()
    {
        var output = new ImapResponseBuilder();
        MessageFormatter.Structure(output, Parse(), extensible: true);
        var text = Encoding.ASCII.GetString(output.ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.StartWith("((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 12 2 NIL NIL NIL NIL)"));
            Assert.That(text, Does.Contain("(\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") NIL NIL \"BASE64\" 4 NIL (\"ATTACHMENT\" (\"FILENAME\" \"a.pdf\")) NIL NIL)"));
            Assert.That(text, Does.Contain("(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 47 (NIL \"inner\""));
            Assert.That(text, Does.EndWith(" \"MIXED\" (\"BOUNDARY\" \"XX\") NIL NIL NIL)"));
        });
    }

    [Test]
    public void EightBitHeaderTextIsSentAsALiteralUnchanged()
    {
        var bytes = Encoding.UTF8.GetBytes("Subject: Réunion\r\n\r\nx");
        var output = new ImapResponseBuilder();
        MessageFormatter.Envelope(output, MimeEntity.Parse(bytes));
        var subject = Encoding.UTF8.GetBytes("Réunion");
        Assert.That(Encoding.Latin1.GetString(output.ToArray()), Does.Contain("NIL {" + subject.Length + "}\r\n" + Encoding.Latin1.GetString(subject) + " NIL"));
    }

    [TestCase("=?UTF-8?B?w6l0w6k=?=", "été")]
    [TestCase("=?ISO-8859-1?Q?caf=E9_au_lait?=", "café au lait")]
    [TestCase("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab")]
    [TestCase("plain", "plain")]
    public void EncodedWordsAreDecodedForSearch(string value, string expected) =>
        Assert.That(MessageFormatter.SearchableText(value), Is.EqualTo(expected));

    [TestCase("Tue, 1 Jul 2003 10:52:37 +0200", "2003-07-01T10:52:37+02:00")]
    [TestCase("1 Jul 2003 10:52 GMT", "2003-07-01T10:52:00+00:00")]
    [TestCase("Wed, 02 Oct 2002 08:00:00 EST (comment)", "2002-10-02T08:00:00-05:00")]
    public void SentDates(string value, string expected)
    {
        Assert.That(Rfc5322Date.TryParse(value, out var date), Is.True);
        Assert.That(date.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(expected));
    }
}
