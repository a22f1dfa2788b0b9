using System.Text;
using MailAuth.Server.Imap.Commands;
using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Tests.Imap;

[TestFixture]
public sealed class ImapParserTests
{
    [TestCase("a LOGIN {5}", "Synchronizing", 5L, 8)]
    [TestCase("a LOGIN {5+}", "NonSynchronizing", 5L, 8)]
    [TestCase("a APPEND INBOX (\\Seen) {0}", "Synchronizing", 0L, 23)]
    [TestCase("a LOGIN \"x{3}\"", "None", 0L, 0)]
    [TestCase("a LOGIN \"x {3}", "None", 0L, 0)]
    [TestCase("a LOGIN \"a\\\"b\" {3}", "Synchronizing", 3L, 15)]
    [TestCase("a NOOP", "None", 0L, 0)]
    [TestCase("a LOGIN {-1}", "Invalid", 0L, 8)]
    [TestCase("a LOGIN {abc}", "Invalid", 0L, 8)]
    [TestCase("a LOGIN {}", "Invalid", 0L, 8)]
    [TestCase("a LOGIN {+}", "Invalid", 0L, 8)]
    [TestCase("a LOGIN {99999999999999999999999}", "Invalid", 0L, 8)]
    [TestCase("a LOGIN {1 2}", "Invalid", 0L, 8)]
    [TestCase("a APPEND x {123456789012}", "Synchronizing", 123456789012L, 11)]
    public void LiteralAnnouncementsAreFoundAtTheEndOfTheLineOutsideQuotes(string line, string kindName, long size, int start)
    {
        var kind = Enum.Parse<LiteralMarkerKind>(kindName);
        var marker = LiteralMarker.Find(Encoding.ASCII.GetBytes(line));
        Assert.Multiple(() =>
        {
            Assert.That(marker.Kind, Is.EqualTo(kind));
            Assert.That(marker.Size, Is.EqualTo(size));
            if (kind != LiteralMarkerKind.None)
            {
                Assert.That(marker.Start, Is.EqualTo(start));
            }
        });
    }

    [TestCase("a1 LOGIN julie@family.example secret", "a1", "LOGIN", "julie@family.example", "secret")]
    [TestCase("x LOGIN \"julie@family.example\" \"p a s s\"", "x", "LOGIN", "julie@family.example", "p a s s")]
    [TestCase("x LOGIN \"j\\\"q\" \"back\\\\slash\"", "x", "LOGIN", "j\"q", "back\\slash")]
    [TestCase("A0001 login user ]x", "A0001", "LOGIN", "user", "]x")]
    public void TagsVerbsAndAstrings(string line, string tag, string verb, string first, string second)
    {
        var reader = new ImapReader(ImapCommandText.FromLine(line));
        Assert.That(reader.ReadTag(), Is.EqualTo(tag));
        reader.ExpectSpace();
        Assert.That(reader.ReadAtom().ToUpperInvariant(), Is.EqualTo(verb));
        reader.ExpectSpace();
        Assert.That(reader.ReadAString(), Is.EqualTo(first));
        reader.ExpectSpace();
        Assert.That(reader.ReadAString(), Is.EqualTo(second));
        Assert.That(reader.AtEnd, Is.True);
    }

    [Test]
    public void LiteralsAreReadInPlaceOfStrings()
    {
        var command = ImapCommandText.FromPieces("a LOGIN {20}", "julie@family.example", " {9+}", "p\"w {1}\r\n", "");
        var reader = new ImapReader(command);
        reader.ReadTag();
        reader.ExpectSpace();
        reader.ReadAtom();
        reader.ExpectSpace();
        Assert.That(reader.ReadAString(), Is.EqualTo("julie@family.example"));
        reader.ExpectSpace();
        Assert.That(reader.ReadAString(), Is.EqualTo("p\"w {1}\r\n"));
        Assert.That(reader.AtEnd, Is.True);
    }

    [TestCase("\"unterminated")]
    [TestCase("\"bad \\escape\"")]
    [TestCase("(paren")]
    [TestCase("")]
    public void MalformedStringsAreSyntaxErrors(string argument)
    {
        var reader = new ImapReader(ImapCommandText.FromLine(argument));
        Assert.Throws<ImapSyntaxException>(() => reader.ReadAString());
    }

    [TestCase("1", 10u, new uint[] { 1 })]
    [TestCase("1:3", 10u, new uint[] { 1, 2, 3 })]
    [TestCase("3:1", 10u, new uint[] { 1, 2, 3 })]
    [TestCase("2,4:5", 10u, new uint[] { 2, 4, 5 })]
    [TestCase("*", 7u, new uint[] { 7 })]
    [TestCase("8:*", 10u, new uint[] { 8, 9, 10 })]
    [TestCase("*:9", 10u, new uint[] { 9, 10 })]
    [TestCase("20:*", 10u, new uint[] { 10 })]
    [TestCase("1,1,1", 3u, new uint[] { 1 })]
    public void SequenceSets(string text, uint largest, uint[] expected)
    {
        var set = SequenceSet.Parse(text);
        var members = Enumerable.Range(1, 12).Select(i => (uint)i).Where(n => n <= largest && set.Contains(n, largest));
        Assert.That(members, Is.EqualTo(expected));
    }

    [TestCase("0")]
    [TestCase("1:0")]
    [TestCase("")]
    [TestCase("1,,2")]
    [TestCase("01")]
    [TestCase("4294967296")]
    [TestCase("-1")]
    [TestCase("1:2:3")]
    public void InvalidSequenceSets(string text) =>
        Assert.Throws<ImapSyntaxException>(() => SequenceSet.Parse(text));

    [TestCase(new uint[] { 1, 2, 3, 7, 9, 10 }, "1:3,7,9:10")]
    [TestCase(new uint[] { 5 }, "5")]
    public void SequenceSetsAreFormattedCompactly(uint[] numbers, string expected) =>
        Assert.That(SequenceSet.Format(numbers), Is.EqualTo(expected));

    [TestCase("FLAGS", "Flags")]
    [TestCase("(UID FLAGS)", "Uid,Flags")]
    [TestCase("ALL", "Flags,InternalDate,Rfc822Size,Envelope")]
    [TestCase("FAST", "Flags,InternalDate,Rfc822Size")]
    [TestCase("FULL", "Flags,InternalDate,Rfc822Size,Envelope,Body")]
    [TestCase("(RFC822.SIZE RFC822 RFC822.HEADER RFC822.TEXT BODYSTRUCTURE BODY ENVELOPE INTERNALDATE)", "Rfc822Size,Rfc822,Rfc822Header,Rfc822Text,BodyStructure,Body,Envelope,InternalDate")]
    [TestCase("body[]", "Section")]
    public void FetchAttributeLists(string text, string kinds)
    {
        var attributes = FetchAttribute.ParseList(new ImapReader(ImapCommandText.FromLine(text)));
        Assert.That(string.Join(',', attributes.Select(a => a.Kind)), Is.EqualTo(kinds));
    }

    [TestCase("BODY[]", false, "", null, null)]
    [TestCase("BODY.PEEK[]", true, "", null, null)]
    [TestCase("BODY[HEADER]", false, "HEADER", null, null)]
    [TestCase("BODY.PEEK[HEADER.FIELDS (From To \"Subject\")]", true, "HEADER.FIELDS (From To Subject)", null, null)]
    [TestCase("BODY[header.fields.not (X-Spam)]", false, "HEADER.FIELDS.NOT (X-Spam)", null, null)]
    [TestCase("BODY[TEXT]<0.2048>", false, "TEXT", 0L, 2048L)]
    [TestCase("BODY[1.2.MIME]", false, "1.2.MIME", null, null)]
    [TestCase("BODY[2.HEADER]", false, "2.HEADER", null, null)]
    [TestCase("BODY[3]<100.5>", false, "3", 100L, 5L)]
    public void FetchSectionsAndPartials(string text, bool peek, string section, long? offset, long? length)
    {
        var attribute = FetchAttribute.Parse(new ImapReader(ImapCommandText.FromLine(text)));
        Assert.Multiple(() =>
        {
            Assert.That(attribute.Kind, Is.EqualTo(FetchKind.Section));
            Assert.That(attribute.Peek, Is.EqualTo(peek));
            Assert.That(attribute.Section!.ToString(), Is.EqualTo(section));
            Assert.That(attribute.PartialOffset, Is.EqualTo(offset));
            Assert.That(attribute.PartialLength, Is.EqualTo(length));
            Assert.That(attribute.SetsSeen, Is.EqualTo(!peek));
        });
    }

    [TestCase("BODY[MIME]")]
    [TestCase("BODY[HEADER.FIELDS]")]
    [TestCase("BODY[TEXT]<1.0>")]
    [TestCase("BODY[TEXT")]
    [TestCase("BODY[FOO]")]
    [TestCase("NOSUCH")]
    [TestCase("(FLAGS")]
    public void InvalidFetchAttributes(string text) =>
        Assert.Throws<ImapSyntaxException>(() => FetchAttribute.ParseList(new ImapReader(ImapCommandText.FromLine(text))));

    [TestCase("ALL", "SearchAll { }")]
    [TestCase("SEEN", "SearchFlag { Flag = \\Seen, Set = True }")]
    [TestCase("unseen", "SearchFlag { Flag = \\Seen, Set = False }")]
    [TestCase("1:3", "SearchSequence")]
    [TestCase("UID 5:*", "SearchUid")]
    [TestCase("SINCE 1-Feb-1994", "SearchDate { Comparison = Since, Sent = False, Date = ")]
    [TestCase("SENTBEFORE \"13-Dec-2024\"", "SearchDate { Comparison = Before, Sent = True, Date = ")]
    [TestCase("FROM anna", "SearchHeader { Field = FROM, Value = anna }")]
    [TestCase("HEADER X-Mailer \"Apple Mail\"", "SearchHeader { Field = X-Mailer, Value = Apple Mail }")]
    [TestCase("LARGER 1000", "SearchSize { Size = 1000, Larger = True }")]
    [TestCase("TEXT {5}", "SearchText { Value = hello, IncludeHeaders = True }")]
    [TestCase("NOT DELETED", "SearchNot { Key = SearchFlag { Flag = \\Deleted, Set = True } }")]
    [TestCase("OR SEEN FLAGGED", "SearchOr { Left = SearchFlag { Flag = \\Seen, Set = True }, Right = SearchFlag { Flag = \\Flagged, Set = True } }")]
    [TestCase("(SEEN)", "SearchFlag { Flag = \\Seen, Set = True }")]
    public void SearchKeys(string text, string expected)
    {
        var command = text.EndsWith("{5}", StringComparison.Ordinal) ? ImapCommandText.FromPieces(text, "hello", "") : ImapCommandText.FromLine(text);
        var key = SearchKey.ParseProgram(new ImapReader(command));
        Assert.That(key.ToString(), Does.StartWith(expected));
    }

    [Test]
    public void SeveralSearchKeysMeanAllOfThem()
    {
        var key = SearchKey.ParseProgram(new ImapReader(ImapCommandText.FromLine("UNDELETED SUBJECT \"report\" OR FROM a TO b")));
        Assert.That(key, Is.TypeOf<SearchAnd>());
        Assert.That(((SearchAnd)key).Keys, Has.Count.EqualTo(3));
    }

    [TestCase("SINCE 30-Feb-2024")]
    [TestCase("SINCE 1-Foo-2024")]
    [TestCase("SINCE yesterday")]
    [TestCase("OR SEEN")]
    [TestCase("NOSUCHKEY")]
    [TestCase("NOT")]
    [TestCase("(SEEN")]
    [TestCase("LARGER -1")]
    public void InvalidSearchKeys(string text) =>
        Assert.Throws<ImapSyntaxException>(() => SearchKey.ParseProgram(new ImapReader(ImapCommandText.FromLine(text))));

    [Test]
    public void DeeplyNestedSearchKeysAreRefusedNotAStackOverflow()
    {
        var text = string.Concat(Enumerable.Repeat("NOT ", 10_000)) + "SEEN";
        Assert.Throws<ImapSyntaxException>(() => SearchKey.ParseProgram(new ImapReader(ImapCommandText.FromLine(text))));
    }

    [TestCase("\"17-Jul-1996 02:44:25 -0700\"", "1996-07-17T02:44:25-07:00")]
    [TestCase("\" 7-Jul-1996 02:44:25 +0200\"", "1996-07-07T02:44:25+02:00")]
    [TestCase("\"01-Jan-2025 00:00:00 +0000\"", "2025-01-01T00:00:00+00:00")]
    public void AppendDateTimes(string text, string expected)
    {
        var value = new ImapReader(ImapCommandText.FromLine(text)).ReadDateTime();
        Assert.That(value.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(expected));
    }

    [Test]
    public void InternalDatesAreFormattedAsRfc3501DateTime() =>
        Assert.That(ImapReader.FormatDateTime(new DateTimeOffset(1996, 7, 7, 2, 44, 25, TimeSpan.FromHours(-7))), Is.EqualTo("07-Jul-1996 02:44:25 -0700"));

    [TestCase("*", "Archive.2024", true)]
    [TestCase("%", "Archive.2024", false)]
    [TestCase("%", "Archive", true)]
    [TestCase("Archive.%", "Archive.2024", true)]
    [TestCase("A*4", "Archive.2024", true)]
    [TestCase("inbox", "INBOX", true)]
    [TestCase("inbox", "Inbox2", false)]
    [TestCase("Sent", "sent", false)]
    [TestCase("a.b", "aXb", false)]
    [TestCase("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false)]
    [TestCase("%.%", "Archive.2024", true)]
    [TestCase("%%.*%", "Archive.2024.Q1", true)]
    [TestCase("*%", "", true)]
    [TestCase("", "Archive", false)]
    [TestCase("INB%", "INBOX", true)]
    [TestCase("inbox.*", "INBOX.sub", false)]
    [TestCase("Ar*ve", "Archive.Archive", true)]
    [TestCase("Ar%ve", "Archive.Archive", false)]
    public void ListPatterns(string pattern, string name, bool matches) =>
        Assert.That(ListCommand.Matcher(pattern)(name), Is.EqualTo(matches));

    [Test]
    public void AMaximalListPatternMatchesInStepsBoundedByNameTimesPattern()
    {
        // 1024 characters of "*a": a backtracking matcher takes exponential time on this, and the
        // NonBacktracking regex it replaces refused to build it (more than 10,000 automaton nodes).
        var pattern = string.Concat(Enumerable.Repeat("*a", ListPattern.MaxLength / 2 - 1)) + "*b";
        var matcher = ListCommand.Matcher(pattern);
        var name = new string('a', 200);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
        {
            Assert.That(matcher(name), Is.False);
        }
        Assert.That(matcher(string.Concat(Enumerable.Repeat("a", 511)) + "b"), Is.True);
        TestContext.Out.WriteLine($"100 names of 200 characters against a 1024-character pattern: {watch.ElapsedMilliseconds} ms");
    }

    [Test]
    public void SearchKeyCountIsCappedWithALimitError()
    {
        var text = string.Join(' ', Enumerable.Repeat("NOT SEEN", 3)); // 6 keys
        Assert.That(SearchKey.ParseProgram(new ImapReader(ImapCommandText.FromLine(text)), maxKeys: 6), Is.TypeOf<SearchAnd>());
        var error = Assert.Throws<ImapLimitException>(() => SearchKey.ParseProgram(new ImapReader(ImapCommandText.FromLine(text)), maxKeys: 5));
        Assert.That(error!.Message, Is.EqualTo("More than 5 search keys in one command"));
        Assert.Throws<ImapLimitException>(() => SearchKey.ParseProgram(new ImapReader(ImapCommandText.FromLine("OR (SEEN FLAGGED) (DELETED DRAFT)")), maxKeys: 6));
    }

    [TestCase("(\\Seen \\Deleted $Label1)", new[] { "\\Seen", "\\Deleted", "$Label1" })]
    [TestCase("()", new string[0])]
    [TestCase("\\Seen \\Answered", new[] { "\\Seen", "\\Answered" })]
    public void FlagLists(string text, string[] expected) =>
        Assert.That(new ImapReader(ImapCommandText.FromLine(text)).ReadFlags(), Is.EqualTo(expected));
}
