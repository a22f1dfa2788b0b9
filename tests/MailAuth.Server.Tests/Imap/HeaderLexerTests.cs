using MailAuth.Server.Imap.Mime;

namespace MailAuth.Server.Tests.Imap;

/// <summary>The RFC 5322 §3.2 lexer and the address-list parser built on it (ENVELOPE, SEARCH FROM, SORT).</summary>
[TestFixture]
public sealed class HeaderLexerTests
{
    private static string Tokens(string value) =>
        string.Join(" ", HeaderLexer.Tokenize(value).Select(t => $"{t.Kind}[{t.Text}]"));

    [TestCase("\"Julie D.\" <julie@family.example>", "QuotedString[Julie D.] Special[<] Atom[julie] Special[@] Atom[family.example] Special[>]")]
    [TestCase("\"a \\\"quoted\\\" \\\\ word\"", "QuotedString[a \"quoted\" \\ word]")]
    [TestCase("(outer (nested) \\) still) atom", "Comment[outer (nested) ) still] Atom[atom]")]
    [TestCase("user-from (comment)@ (comment) domain.org", "Atom[user-from] Comment[comment] Special[@] Comment[comment] Atom[domain.org]")]
    [TestCase("[192.0.2.1]", "DomainLiteral[[192.0.2.1]]")]
    [TestCase("\"unterminated", "QuotedString[unterminated]")]
    [TestCase("(unterminated (comment)", "Comment[unterminated (comment)]")]
    [TestCase("a:b;c,d", "Atom[a] Special[:] Atom[b] Special[;] Atom[c] Special[,] Atom[d]")]
    public void TokensFollowRfc5322(string value, string expected) =>
        Assert.That(Tokens(value), Is.EqualTo(expected));

    [TestCase("text/plain; charset=\"utf;8\" (x)", "\"utf;8\"")]
    [TestCase("a\"b(c\\\"d\"(e", "\"b(c\\\"d\"")]
    [TestCase("a\"open", "\"open")]
    public void QuotedStringsEndAtTheirClosingQuote(string value, string quoted)
    {
        var start = value.IndexOf('"', StringComparison.Ordinal);
        Assert.That(value[start..HeaderLexer.QuotedStringEnd(value, start)], Is.EqualTo(quoted));
    }

    [TestCase("x(a(b)c)y", "(a(b)c)")]
    [TestCase("x(a\\)b)y", "(a\\)b)")]
    [TestCase("x(a(b", "(a(b")]
    public void CommentsEndAtTheirMatchingParenthesis(string value, string comment) =>
        Assert.That(value[1..HeaderLexer.CommentEnd(value, 1)], Is.EqualTo(comment));

    private static string Parsed(string value) =>
        string.Join(" ", EnvelopeAddress.ParseList(value).Select(a => $"[{a.Name}|{a.Route}|{a.Mailbox}|{a.Host}]"));

    [TestCase("\"Julie D.\" <julie@family.example>", "[Julie D.||julie|family.example]")]
    [TestCase("anna@family.example (Anna B.)", "[Anna B.||anna|family.example]")]
    [TestCase("John Q. Public <john@x.example>", "[John Q. Public||john|x.example]")]
    [TestCase("<user-from (comment)@ (comment) domain.org>", "[||user-from|domain.org]")]
    [TestCase("<@route:user@domain>", "[|@route|user|domain]")]
    [TestCase("Rt <@a.example,@b.example:user@domain>", "[Rt|@a.example,@b.example|user|domain]")]
    [TestCase("\"john doe\"@x.example", "[||john doe|x.example]")]
    [TestCase("user@[192.0.2.1]", "[||user|[192.0.2.1]]")]
    [TestCase("bare", "[||bare|]")]
    [TestCase("a@x.example, , b@x.example", "[||a|x.example] [||b|x.example]")]
    [TestCase("", "")]
    [TestCase("(only a comment)", "")]
    public void MailboxesAreParsedWithoutComments(string value, string expected) =>
        Assert.That(Parsed(value), Is.EqualTo(expected));

    [Test]
    public void GroupsBecomeStartAndEndMarkers()
    {
        var list = EnvelopeAddress.ParseList("group: g1@d1.org, g2@d2.org;, group2: (foo) ;, undisclosed-recipients:;");
        Assert.That(Parsed("group: g1@d1.org, g2@d2.org;, group2: (foo) ;, undisclosed-recipients:;"), Is.EqualTo(
            "[||group|] [||g1|d1.org] [||g2|d2.org] [|||] [||group2|] [|||] [||undisclosed-recipients|] [|||]"));
        Assert.That(list.Select(a => (a.IsGroupStart, a.IsGroupEnd, a.IsMailbox)), Is.EqualTo(new[]
        {
            (true, false, false), (false, false, true), (false, false, true), (false, true, false),
            (true, false, false), (false, true, false), (true, false, false), (false, true, false),
        }));
        Assert.That(list.Select(a => a.Address), Is.EqualTo(new[] { null, "g1@d1.org", "g2@d2.org", null, null, null, null, null }));
    }

    [Test]
    public void AnUnterminatedGroupIsClosed() =>
        Assert.That(Parsed("team: a@x.example"), Is.EqualTo("[||team|] [||a|x.example] [|||]"));
}
