using MailAuth.Core.Passwords;

namespace MailAuth.Core.Tests.Passwords;

[TestFixture]
internal sealed class LibSodiumTests
{
    [Test]
    public void TheInstalledLibraryIsAvailable()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(LibSodium.EnsureAvailable, Throws.Nothing);
            Assert.That(LibSodium.FindProblem(LibSodium.LibraryName), Is.Null);
        }
    }

    [Test]
    public void AMissingLibraryIsReportedWithThePackageToInstall()
    {
        Assert.That(
            LibSodium.FindProblem("libsodium.so.0-does-not-exist"),
            Is.EqualTo("cannot load libsodium (libsodium.so.0-does-not-exist): install the Debian package libsodium23"));
    }

    [Test]
    public void ALibraryWithoutTheFunctionsIsReported()
    {
        Assert.That(
            LibSodium.FindProblem(LibCrypt.LibraryName),
            Is.EqualTo("libsodium (libcrypt.so.1) has no sodium_init: install the Debian package libsodium23 (1.0.15 or later)"));
    }

    [Test]
    public void HashProducesAnArgon2IdStringAtTheGivenParameters()
    {
        string phc = LibSodium.HashArgon2Id("x", iterations: 2, memoryKiB: 64);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(phc, Does.Match(@"^\$argon2id\$v=19\$m=64,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$"));
            Assert.That(LibSodium.Verify(phc, "x"), Is.True);
            Assert.That(LibSodium.NeedsRehash(phc, iterations: 2, memoryKiB: 64), Is.False);
            Assert.That(LibSodium.NeedsRehash(phc, iterations: 3, memoryKiB: 64), Is.True);
            Assert.That(LibSodium.NeedsRehash(phc, iterations: 2, memoryKiB: 128), Is.True);
        }
    }

    [Test]
    public void NeedsRehashIgnoresTheLaneCount()
    {
        // Documents a libsodium 1.0.18 behaviour that PasswordHasher compensates for.
        Assert.That(LibSodium.NeedsRehash(TestVectors.Argon2IdTwoLanes, iterations: 2, memoryKiB: 19456), Is.False);
    }

    [Test]
    public void NeedsRehashIsTrueForArgon2I()
    {
        // The generic crypto_pwhash_str_needs_rehash dispatches on the prefix; an argon2i string at the
        // same parameters is "current" for it, so PasswordHasher also checks the scheme itself.
        Assert.That(LibSodium.NeedsRehash(TestVectors.Argon2I, iterations: 2, memoryKiB: 19456), Is.False);
    }
}
