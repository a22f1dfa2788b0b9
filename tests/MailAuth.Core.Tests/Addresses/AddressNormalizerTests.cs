using MailAuth.Core.Addresses;

namespace MailAuth.Core.Tests.Addresses;

[TestFixture]
public sealed class AddressNormalizerTests
{
    [TestCase("julie@family.example", "julie@family.example")]
    [TestCase("Julie@Family.Example", "julie@family.example")]
    [TestCase("JULIE@FAMILY.EXAMPLE", "julie@family.example")]
    [TestCase("first.last+tag@example.org", "first.last+tag@example.org")]
    [TestCase("o'brien@example.org", "o'brien@example.org")]
    [TestCase("a!#$%&'*+-/=?^_`{|}~z@example.org", "a!#$%&'*+-/=?^_`{|}~z@example.org")]
    [TestCase("anna@bücher.example", "anna@xn--bcher-kva.example")]
    [TestCase("anna@BÜCHER.example", "anna@xn--bcher-kva.example")]
    [TestCase("anna@xn--bcher-kva.example", "anna@xn--bcher-kva.example")]
    [TestCase("Jürgen@example.org", "jürgen@example.org")]
    [TestCase("anna@ＢＵＣＨ.example", "anna@buch.example")]
    [TestCase("用户@例子.example", "用户@xn--fsqu00a.example")]
    [TestCase("x@sub.domain-with-hyphen.example", "x@sub.domain-with-hyphen.example")]
    public void NormalisesValidAddresses(string input, string expected)
    {
        Assert.That(AddressNormalizer.TryNormalize(input, out var address, out var error), Is.True, error);
        Assert.That(address.ToString(), Is.EqualTo(expected));
    }

    [TestCase("", "the address is empty")]
    [TestCase("julie", "the address has no '@'")]
    [TestCase("julie@", "the domain is empty")]
    [TestCase("@family.example", "the local part (before '@') is empty")]
    [TestCase("a@b@family.example", "the address has more than one '@'")]
    [TestCase("\"julie\"@family.example", "quoted local parts are not supported")]
    [TestCase("julie @family.example", "the address contains spaces or control characters")]
    [TestCase("julie@family.example\r\n", "the address contains spaces or control characters")]
    [TestCase("ju\0lie@family.example", "the address contains spaces or control characters")]
    [TestCase(".julie@family.example", "the local part may not start or end with a dot or hold two dots in a row")]
    [TestCase("julie.@family.example", "the local part may not start or end with a dot or hold two dots in a row")]
    [TestCase("ju..lie@family.example", "the local part may not start or end with a dot or hold two dots in a row")]
    [TestCase("ju(lie@family.example", "the local part may not contain '('")]
    [TestCase("ju,lie@family.example", "the local part may not contain ','")]
    [TestCase("julie@localhost", "the domain needs at least two labels (like example.org)")]
    [TestCase("julie@family.example.", "the domain ends with a dot")]
    [TestCase("julie@family..example", "the domain has an empty label (two dots in a row or a leading dot)")]
    [TestCase("julie@.family.example", "the domain has an empty label (two dots in a row or a leading dot)")]
    [TestCase("julie@-family.example", "the domain is not a valid (internationalised) domain name")]
    [TestCase("julie@fam_ily.example", "the domain is not a valid (internationalised) domain name")]
    [TestCase("julie@[192.0.2.1]", "address literals such as [192.0.2.1] are not supported")]
    [TestCase("julie@192.0.2.1", "the domain's last label is numeric (an IP address is not a mail domain)")]
    public void RefusesMalformedAddressesWithTheReason(string input, string reason)
    {
        Assert.Multiple(() =>
        {
            Assert.That(AddressNormalizer.TryNormalize(input, out _, out var error), Is.False);
            Assert.That(error, Is.EqualTo(reason));
        });
    }

    [Test]
    public void RefusesOverlongParts()
    {
        Assert.Multiple(() =>
        {
            Assert.That(AddressNormalizer.TryNormalize(new string('a', 65) + "@example.org", out _, out var local), Is.False);
            Assert.That(local, Is.EqualTo("the local part is longer than 64 octets"));
            var longDomain = string.Join('.', Enumerable.Repeat(new string('d', 60), 5)) + ".org";
            Assert.That(AddressNormalizer.TryNormalize("a@" + longDomain, out _, out var domain), Is.False);
            Assert.That(domain, Is.EqualTo("the domain is longer than 253 octets"));
            Assert.That(AddressNormalizer.TryNormalize("a@" + new string('d', 64) + ".org", out _, out var label), Is.False);
            Assert.That(label, Is.EqualTo("the domain has a label longer than 63 octets"));
            // 64 + 1 + 190 octets: each part fits, the whole does not.
            var whole = new string('a', 64) + "@" + string.Join('.', Enumerable.Repeat(new string('d', 60), 3)) + ".example";
            Assert.That(AddressNormalizer.TryNormalize(whole, out _, out var total), Is.False);
            Assert.That(total, Is.EqualTo("the address is longer than 254 octets"));
        });
    }

    [Test]
    public void EqualSpellingsAreEqualValues()
    {
        Assert.That(EmailAddress.Parse("Julie@BÜCHER.example"), Is.EqualTo(EmailAddress.Parse("julie@xn--bcher-kva.example")));
    }

    [Test]
    public void ParseThrowsWithTheReason()
    {
        var e = Assert.Throws<InvalidAddressException>(() => EmailAddress.Parse("no-at-sign"));
        Assert.That(e!.Message, Is.EqualTo("invalid address 'no-at-sign': the address has no '@'"));
    }
}
