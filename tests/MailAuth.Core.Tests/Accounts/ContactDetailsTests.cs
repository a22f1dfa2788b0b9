using MailAuth.Core.Accounts;

namespace MailAuth.Core.Tests.Accounts;

[TestFixture]
public sealed class ContactDetailsTests
{
    [TestCase("+41 79 123 45 67", "+41791234567")]
    [TestCase("+1 (555) 010-0199", "+15550100199")]
    [TestCase("+33.6.12.34.56.78", "+33612345678")]
    public void NormalisesPhoneNumbers(string input, string expected)
    {
        Assert.That(ContactDetails.NormalizePhone(input), Is.EqualTo(expected));
    }

    [TestCase("079 123 45 67", "the phone number must be in international form, starting with + and the country code")]
    [TestCase("+41 79 123 45 6x", "the phone number may not contain 'x'")]
    [TestCase("+41 79", "the phone number must have 8 to 15 digits after the +")]
    [TestCase("+1234567890123456", "the phone number must have 8 to 15 digits after the +")]
    public void RefusesBadPhoneNumbers(string input, string error)
    {
        Assert.That(Assert.Throws<CredentialOperationException>(() => ContactDetails.NormalizePhone(input))!.Message, Is.EqualTo(error));
    }

    [TestCase("Anna Muster", "am")]
    [TestCase("Émilie Dupont-Roux", "edr")]
    [TestCase("julie", "j")]
    [TestCase("Jean-Marc d'Ormesson de la Tour", "jmdo")]
    [TestCase("山田 太郎", "x")]
    public void InitialsForRecoveryUsernames(string name, string initials)
    {
        Assert.That(ContactDetails.Initials(name), Is.EqualTo(initials));
    }
}
