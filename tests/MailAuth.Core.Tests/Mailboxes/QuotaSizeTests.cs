using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Tests.Mailboxes;

public sealed class QuotaSizeTests
{
    [TestCase("1000", 1000L)]
    [TestCase("500M", 500L << 20)]
    [TestCase("2G", 2L << 30)]
    [TestCase("2g", 2L << 30)]
    [TestCase("64k", 64L << 10)]
    [TestCase("1T", 1L << 40)]
    [TestCase("0", 0L)]
    [TestCase("none", null)]
    [TestCase("NONE", null)]
    public void ASizeIsBytesOrANumberWithABinaryUnit(string text, long? bytes) => Assert.That(QuotaSize.Parse(text), Is.EqualTo(bytes));

    [TestCase("")]
    [TestCase("M")]
    [TestCase("-5M")]
    [TestCase("1.5G")]
    [TestCase("5 MB")]
    [TestCase("12X")]
    [TestCase("99999999999999T")]
    public void AnythingElseIsRefused(string text) => Assert.That(() => QuotaSize.Parse(text), Throws.TypeOf<FormatException>());

    [TestCase(2L << 30, "2G")]
    [TestCase(1536L << 10, "1536K")]
    [TestCase(1000L, "1000")]
    [TestCase(0L, "0")]
    [TestCase(null, "none")]
    public void AQuotaIsShownInItsShortestExactForm(long? bytes, string text) => Assert.That(QuotaSize.Format(bytes), Is.EqualTo(text));
}
