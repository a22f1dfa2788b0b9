using MailAuth.Server.Imap.Sorting;

namespace MailAuth.Server.Tests.Imap.Sorting;

/// <summary>Base subject extraction, RFC 5256 §2.1, step by step.</summary>
[TestFixture]
public sealed class BaseSubjectTests
{
    [TestCase("Re: hello", "HELLO", true)]
    [TestCase("RE:  Re:\tFWD: fw: hello", "HELLO", true)]
    [TestCase("hello (fwd)", "HELLO", true)]
    [TestCase("hello (FWD)  (fwd) ", "HELLO", true)]
    [TestCase("[list] Re: hello", "HELLO", true)]
    [TestCase("[list] hello", "HELLO", false)]
    [TestCase("[list]", "[LIST]", false)]
    [TestCase("Re [list]: hello", "HELLO", true)]
    [TestCase("[Fwd: hello]", "HELLO", true)]
    [TestCase("re: [fwd: [fwd: re: [fwd: babylon]]]", "BABYLON", true)]
    [TestCase("[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "B", true)]
    [TestCase("Ad: Re: Ad: Re: Ad: x", "AD: RE: AD: RE: AD: X", false)]
    [TestCase("Reply: hello", "REPLY: HELLO", false)]
    [TestCase("Fwdx: hello", "FWDX: HELLO", false)]
    [TestCase("   ", "", false)]
    [TestCase("b (a)", "B (A)", false)]
    [TestCase("Réunion", "RéUNION", false)]
    public void ExtractsTheBaseSubject(string subject, string expected, bool replyOrForward) =>
        Assert.That(BaseSubject.Extract(subject), Is.EqualTo((expected, replyOrForward)));

    [TestCase("=?iso-8859-1?q?RE:_C?=", "C")]
    [TestCase("=?us-ascii?b?UmU6IGM=?=", "C")]
    [TestCase("Re: =?utf-8?q?b?=", "B")]
    [TestCase("=?iso-8859-1?q?_?=", "")]
    public void DecodesEncodedWordsFirst(string header, string expected) =>
        Assert.That(BaseSubject.FromHeader(header).Subject, Is.EqualTo(expected));
}
