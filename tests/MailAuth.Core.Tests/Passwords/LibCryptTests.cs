using MailAuth.Core.Passwords;

namespace MailAuth.Core.Tests.Passwords;

[TestFixture]
internal sealed class LibCryptTests
{
    [TestCase(TestVectors.Sha512Drepper, TestVectors.DrepperPassword)]
    [TestCase(TestVectors.Sha256DrepperRounds, TestVectors.DrepperPassword)]
    [TestCase(TestVectors.BcryptOpenwall, TestVectors.BcryptOpenwallPassword)]
    public void PublishedVectorsVerify(string hash, string password)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(LibCrypt.Verify(hash, password), Is.True);
            Assert.That(LibCrypt.Verify(hash, password + "x"), Is.False);
        }
    }

    [Test]
    public void AFailingSettingIsNoMatch()
    {
        // libxcrypt answers "*0" for rounds below 1000; that must read as "no match", not as a hash.
        Assert.That(LibCrypt.Verify("$6$rounds=999$abc$", "x"), Is.False);
    }

    [Test]
    public void APasswordWithANulNeverMatches()
    {
        Assert.That(LibCrypt.Verify(TestVectors.Sha512Drepper, TestVectors.DrepperPassword + "\0"), Is.False);
    }
}
