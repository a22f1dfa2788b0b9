using MailAuth.Server.Imap;
using MailAuth.Server.Imap.Sorting;

namespace MailAuth.Server.Tests.Imap.Sorting;

/// <summary>The REFERENCES and ORDEREDSUBJECT algorithms (RFC 5256 §2.2) and the THREAD response format (§4).</summary>
[TestFixture]
public sealed class ReferencesThreaderTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Message n (1-based) sent n minutes after the start unless <paramref name="minute"/> says otherwise.</summary>
    private static ThreadMessage M(int n, string? id, string subject = "", int? minute = null, params string[] references)
    {
        var (baseSubject, reply) = BaseSubject.Extract(subject);
        return new ThreadMessage(n - 1, id, references, Start.AddMinutes(minute ?? n), baseSubject, reply);
    }

    private static string References(params ThreadMessage[] messages) =>
        ThreadNode.Format(ReferencesThreader.Thread(messages, new SearchBudget(TimeSpan.FromSeconds(10))), i => (uint)(i + 1));

    [Test]
    public void TheResponseFormatOfRfc5256Section4()
    {
        // (2)(3 6 (4 23)(44 7 96)): 3 has one child 6, which has two, 4 (with child 23) and 44 (a chain 7, 96).
        ThreadNode N(int n) => new(new ThreadMessage(n - 1, null, [], Start, "", false));
        var three = N(3);
        var six = N(6);
        var four = N(4);
        var fortyFour = N(44);
        var seven = N(7);
        three.AddChild(six);
        six.AddChild(four);
        four.AddChild(N(23));
        six.AddChild(fortyFour);
        fortyFour.AddChild(seven);
        seven.AddChild(N(96));
        Assert.That(ThreadNode.Format([N(2), three], i => (uint)(i + 1)), Is.EqualTo("(2)(3 6 (4 23)(44 7 96))"));
    }

    [Test]
    public void RepliesHangUnderTheirParentsInDateOrder()
    {
        Assert.That(References(
            M(1, "a@x"),
            M(2, "b@x", minute: 9, references: ["a@x"]),
            M(3, "c@x", minute: 5, references: ["a@x"]),
            M(4, "d@x", references: ["a@x", "b@x"])), Is.EqualTo("(1 (3)(2 4))"));
    }

    [Test]
    public void AMissingParentBecomesADummyKeptOnlyAboveSeveralRoots()
    {
        Assert.That(References(M(1, "b@x", references: ["gone@x"]), M(2, "c@x", references: ["gone@x"])), Is.EqualTo("((1)(2))"));
        Assert.That(References(M(1, "b@x", references: ["gone@x"]), M(2, "c@x", references: ["other@x"])), Is.EqualTo("(1)(2)"));
        // A dummy inside a thread always gives its children to its parent.
        Assert.That(References(M(1, "a@x"), M(2, "c@x", references: ["a@x", "gone@x"]), M(3, "d@x", references: ["a@x", "gone@x"])),
            Is.EqualTo("(1 (2)(3))"));
    }

    [Test]
    public void TheMessagesOwnReferencesWinOverPresumedParentsButNeverMakeALoop()
    {
        // 2 presumes a -> c; 3 (c) then says its parent is b, a child of c: no loop, c loses its parent.
        Assert.That(References(M(1, "a@b", minute: 30), M(2, "b@b", minute: 10, references: ["a@b", "c@b"]), M(3, "c@b", minute: 20, references: ["b@b"])),
            Is.EqualTo("(3 2)(1)"));
        Assert.That(References(M(1, "a@x", references: ["a@x"])), Is.EqualTo("(1)"));
    }

    [Test]
    public void ADuplicateMessageIdIsTreatedAsNoneAndSubjectsMergeRoots()
    {
        Assert.That(References(M(1, "a@x"), M(2, "a@x")), Is.EqualTo("(1)(2)"));
        Assert.That(References(M(1, "a@x", "foo"), M(2, "a@x", "Re: foo")), Is.EqualTo("(1 2)"));
        // Two non-replies of one subject go under a new dummy; a reply goes under the non-reply.
        Assert.That(References(M(1, "a@x", "foo"), M(2, "b@x", "foo"), M(3, "c@x", "Re: bar"), M(4, "d@x", "bar")),
            Is.EqualTo("((1)(2))(4 3)"));
        // Empty subjects are never merged.
        Assert.That(References(M(1, "a@x"), M(2, "b@x")), Is.EqualTo("(1)(2)"));
    }

    [Test]
    public void OrderedSubjectGroupsByBaseSubjectAndOrdersByDate()
    {
        var messages = new[] { M(1, null, "a", 10), M(2, null, "b", 9), M(3, null, "Re: a", 8), M(4, null, "b", 7), M(5, null, "c", 1) };
        Assert.That(ThreadNode.Format(OrderedSubjectThreader.Thread(messages), i => (uint)(i + 1)), Is.EqualTo("(5)(4 2)(3 1)"));
        var three = new[] { M(1, null, "a", 3), M(2, null, "a", 2), M(3, null, "a", 1) };
        Assert.That(ThreadNode.Format(OrderedSubjectThreader.Thread(three), i => (uint)(i + 1)), Is.EqualTo("(3 (2)(1))"));
    }

    [Test]
    public void ALongReplyChainDoesNotExhaustTheStack()
    {
        var messages = Enumerable.Range(1, 100_000).Select(n => M(n, $"{n}@x", references: n == 1 ? [] : [$"{n - 1}@x"])).ToArray();
        var text = References(messages);
        Assert.That(text, Does.StartWith("(1 2 3 ").And.EndWith(" 99999 100000)"));
    }
}
