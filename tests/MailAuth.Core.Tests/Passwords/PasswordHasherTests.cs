using System.Collections.Concurrent;
using System.Text;
using MailAuth.Core.Passwords;
using Microsoft.Extensions.Options;

namespace MailAuth.Core.Tests.Passwords;

[TestFixture]
internal sealed class PasswordHasherTests
{
    // Small parameters keep the suite fast; one test runs at the defaults.
    private static readonly HashingOptions Fast = new() { MemoryKiB = 8192, Iterations = 1 };

    // The parameters of the argon2 CLI vectors, so that they count as "current" here.
    private static readonly HashingOptions VectorParameters = new() { MemoryKiB = 19456, Iterations = 2 };

    private static PasswordHasher FastHasher => new(Fast);

    [Test]
    public void HashThenVerifyRoundTrips()
    {
        var hasher = FastHasher;
        string hash = hasher.Hash("s3cret");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hash, Does.StartWith("{ARGON2ID}$argon2id$v=19$m=8192,t=1,p=1$"));
            Assert.That(hasher.Verify(hash, "s3cret"), Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: false)));
        }
    }

    [Test]
    public void HashesOfTheSamePasswordDiffer()
    {
        var hasher = FastHasher;
        string first = hasher.Hash("s3cret");
        string second = hasher.Hash("s3cret");
        Assert.That(second, Is.Not.EqualTo(first), "each hash has its own random salt");
    }

    [TestCase("s3creT")]
    [TestCase("s3cre")]
    [TestCase("s3cret ")]
    [TestCase("")]
    public void WrongPasswordDoesNotMatch(string wrong)
    {
        var hasher = FastHasher;
        string hash = hasher.Hash("s3cret");
        Assert.That(hasher.Verify(hash, wrong), Is.EqualTo(new PasswordCheck(Matches: false, NeedsRehash: false)));
    }

    [Test]
    public void Utf8PasswordsRoundTripAndAreNotNormalisedAway()
    {
        var hasher = FastHasher;
        string hash = hasher.Hash(TestVectors.Utf8Password);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hasher.Verify(hash, TestVectors.Utf8Password).Matches, Is.True);
            Assert.That(hasher.Verify(hash, "passwort-日本").Matches, Is.False);
            Assert.That(hasher.Verify(hash, "pässwörd-日").Matches, Is.False);
        }
    }

    [Test]
    public void Utf8PasswordVerifiesAgainstTheReferenceArgon2Cli()
    {
        // Proves the password is fed to Argon2 as UTF-8, as the reference tool and Dovecot do.
        var check = FastHasher.Verify("{ARGON2ID}" + TestVectors.Argon2IdUtf8, TestVectors.Utf8Password);
        Assert.That(check, Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: false)));
    }

    [Test]
    public void LongPasswordsUseARentedBufferAndStillRoundTrip()
    {
        var hasher = FastHasher;
        string longPassword = string.Concat(Enumerable.Repeat("日本語のパスワード", 100));
        string hash = hasher.Hash(longPassword);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hasher.Verify(hash, longPassword).Matches, Is.True);
            Assert.That(hasher.Verify(hash, longPassword[..^1]).Matches, Is.False);
        }
    }

    [Test]
    public void DefaultParametersRoundTrip()
    {
        var hasher = new PasswordHasher(new HashingOptions());
        string hash = hasher.Hash("s3cret");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hash, Does.StartWith("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$"));
            Assert.That(hasher.Verify(hash, "s3cret"), Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: false)));
            Assert.That(hasher.Verify(hash, "S3cret").Matches, Is.False);
        }
    }

    [Test]
    public void TheOptionsConstructorReadsTheBoundValue()
    {
        var hasher = new PasswordHasher(Options.Create(new HashingOptions { MemoryKiB = 16, Iterations = 1 }));
        Assert.That(hasher.Hash("x"), Does.StartWith("{ARGON2ID}$argon2id$v=19$m=16,t=1,p=1$"));
    }

    [Test]
    public void InvalidOptionsAreRefusedAtConstruction()
    {
        var options = new HashingOptions { Parallelism = 2 };
        Assert.That(
            () => new PasswordHasher(options),
            Throws.TypeOf<OptionsValidationException>().With.Message.Contains("libsodium computes single-lane"));
    }

    [Test]
    public void ChangingTheOptionsObjectLaterDoesNotChangeTheHasher()
    {
        var options = new HashingOptions { MemoryKiB = 16, Iterations = 1 };
        var hasher = new PasswordHasher(options);
        options.MemoryKiB = 32;
        Assert.That(hasher.Hash("x"), Does.Contain("m=16,"));
    }

    [Test]
    public void TheHashNeverContainsThePassword()
    {
        var hasher = FastHasher;
        foreach (string password in new[] { "hunter2hunter2", "aaaaaaaaaaaaaaaaaaaaaaaa", TestVectors.Utf8Password })
        {
            string hash = hasher.Hash(password);
            string passwordBase64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(password)).TrimEnd('=');
            using (Assert.EnterMultipleScope())
            {
                Assert.That(hash, Does.Not.Contain(password));
                Assert.That(hash, Does.Not.Contain(passwordBase64));
            }
        }
    }

    // Rehash decisions

    [Test]
    public void NoRehashWhenSchemeAndParametersAreCurrent()
    {
        var check = new PasswordHasher(VectorParameters).Verify("{ARGON2ID}" + TestVectors.Argon2Id, TestVectors.Argon2Password);
        Assert.That(check, Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: false)));
    }

    [TestCase(16384, 1)]
    [TestCase(8192, 2)]
    public void RehashWhenTheConfiguredParametersDiffer(int memoryKiB, int iterations)
    {
        string hash = FastHasher.Hash("s3cret");
        var hasher = new PasswordHasher(new HashingOptions { MemoryKiB = memoryKiB, Iterations = iterations });
        Assert.That(hasher.Verify(hash, "s3cret"), Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: true)));
    }

    [Test]
    public void RehashWhenTheStoredHashHasTwoLanes()
    {
        // libsodium's own needs_rehash ignores the lane count; the hasher checks it.
        var check = new PasswordHasher(VectorParameters).Verify("{ARGON2ID}" + TestVectors.Argon2IdTwoLanes, TestVectors.Argon2Password);
        Assert.That(check, Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: true)));
    }

    [Test]
    public void RehashWhenTheSchemeIsArgon2IEvenAtTheSameParameters()
    {
        var check = new PasswordHasher(VectorParameters).Verify("{ARGON2I}" + TestVectors.Argon2I, TestVectors.Argon2Password);
        Assert.That(check, Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: true)));
    }

    [TestCase("{BLF-CRYPT}" + TestVectors.BcryptPhp, TestVectors.BcryptPhpPassword)]
    [TestCase("{SHA512-CRYPT}" + TestVectors.Sha512Drepper, TestVectors.DrepperPassword)]
    [TestCase("{SHA256-CRYPT}" + TestVectors.Sha256Drepper, TestVectors.DrepperPassword)]
    [TestCase("{PLAIN}s3cret", "s3cret")]
    public void RehashWhenTheSchemeIsLegacy(string stored, string password)
    {
        Assert.That(FastHasher.Verify(stored, password), Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: true)));
    }

    [Test]
    public void NoRehashAdviceWithoutAMatch()
    {
        var check = FastHasher.Verify("{PLAIN}s3cret", "wrong");
        Assert.That(check, Is.EqualTo(new PasswordCheck(Matches: false, NeedsRehash: false)));
    }

    // Hashes made by other tools

    [TestCase("{ARGON2ID}" + TestVectors.Argon2Id)]
    [TestCase("{argon2i}" + TestVectors.Argon2I)]
    [TestCase("{ARGON2ID}" + TestVectors.Argon2IdTwoLanes)]
    [TestCase(TestVectors.Argon2Id)]
    public void Argon2HashesFromTheReferenceCliVerify(string stored)
    {
        var hasher = FastHasher;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hasher.Verify(stored, TestVectors.Argon2Password).Matches, Is.True);
            Assert.That(hasher.Verify(stored, TestVectors.Argon2Password + "!").Matches, Is.False);
        }
    }

    [TestCase("{BLF-CRYPT}" + TestVectors.BcryptOpenwall, TestVectors.BcryptOpenwallPassword)]
    [TestCase("{BLF-CRYPT}" + TestVectors.BcryptPhp, TestVectors.BcryptPhpPassword)]
    [TestCase("{SHA512-CRYPT}" + TestVectors.Sha512Drepper, TestVectors.DrepperPassword)]
    [TestCase("{SHA512-CRYPT}" + TestVectors.Sha512DrepperRounds, TestVectors.DrepperPassword)]
    [TestCase("{SHA256-CRYPT}" + TestVectors.Sha256Drepper, TestVectors.DrepperPassword)]
    [TestCase("{SHA256-CRYPT}" + TestVectors.Sha256DrepperRounds, TestVectors.DrepperPassword)]
    public void PublishedLegacyVectorsVerify(string stored, string password)
    {
        var hasher = FastHasher;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hasher.Verify(stored, password).Matches, Is.True);
            Assert.That(hasher.Verify(stored, password.ToUpperInvariant() + "x").Matches, Is.False);
        }
    }

    [Test]
    public void BcryptVariantsVerifyTheSameVector()
    {
        // $2a$, $2b$ and $2y$ compute the same hash for ASCII passwords.
        string body = TestVectors.BcryptOpenwall["$2a$".Length..];
        var hasher = FastHasher;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hasher.Verify("{BLF-CRYPT}$2b$" + body, TestVectors.BcryptOpenwallPassword).Matches, Is.True);
            Assert.That(hasher.Verify("$2y$" + body, TestVectors.BcryptOpenwallPassword).Matches, Is.True);
        }
    }

    [TestCase("-6", "{SHA512-CRYPT}", null)]
    [TestCase("-5", "{SHA256-CRYPT}", null)]
    [TestCase("-6", "{SHA512-CRYPT}", "rounds=2000$abcdefgh")]
    [TestCase("-5", "{SHA256-CRYPT}", "rounds=2000$abcdefgh")]
    public void ShaCryptHashesFromOpenSslVerify(string algorithm, string scheme, string? salt)
    {
        var hasher = FastHasher;
        foreach (string password in new[] { "s3cret", TestVectors.Utf8Password })
        {
            string stored = scheme + OpenSslPasswd.Hash(algorithm, password, salt);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(hasher.Verify(stored, password), Is.EqualTo(new PasswordCheck(Matches: true, NeedsRehash: true)), stored);
                Assert.That(hasher.Verify(stored, password + "x").Matches, Is.False, stored);
            }
        }
    }

    // Robustness

    [TestCase("")]
    [TestCase("garbage")]
    [TestCase("{MD5}x")]
    [TestCase("{ARGON2ID}$argon2id$v=19$m=4,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")]
    [TestCase("{BLF-CRYPT}ab0123456789.")]
    public void UnparseableStoredHashesNeverMatchAndNeverThrow(string stored)
    {
        Assert.That(FastHasher.Verify(stored, "garbage"), Is.EqualTo(new PasswordCheck(Matches: false, NeedsRehash: false)));
    }

    [Test]
    public void ANulInThePasswordDoesNotTruncateItForCrypt()
    {
        // crypt(3) would stop at the NUL and see "Hello world!".
        var check = FastHasher.Verify("{SHA512-CRYPT}" + TestVectors.Sha512Drepper, TestVectors.DrepperPassword + "\0tail");
        Assert.That(check.Matches, Is.False);
    }

    [TestCase("s3cret", "s3cret", true)]
    [TestCase("s3cret", "s3cre", false)]
    [TestCase("s3cre", "s3cret", false)]
    [TestCase("s3cret", "s3cret\0", false)]
    [TestCase("s3cret", "S3cret", false)]
    [TestCase(TestVectors.Utf8Password, TestVectors.Utf8Password, true)]
    [TestCase("pässwörd", "passwörd", false)]
    public void PlainComparesExactBytes(string stored, string password, bool matches)
    {
        Assert.That(FastHasher.Verify("{CLEARTEXT}" + stored, password).Matches, Is.EqualTo(matches));
    }

    [Test]
    public void DummyHashIsComputedOnceAtTheConfiguredParametersAndMatchesNothingGuessable()
    {
        var hasher = FastHasher;
        var seen = new ConcurrentBag<string>();
        Parallel.For(0, 8, _ => seen.Add(hasher.DummyHash));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen.Distinct(), Has.Exactly(1).Items);
            Assert.That(hasher.DummyHash, Does.StartWith("{ARGON2ID}$argon2id$v=19$m=8192,t=1,p=1$"));
            Assert.That(hasher.Verify(hasher.DummyHash, "").Matches, Is.False);
            Assert.That(FastHasher.DummyHash, Is.Not.EqualTo(hasher.DummyHash));
        }
    }

    [Test]
    public void OneInstanceVerifiesConcurrently()
    {
        var hasher = FastHasher;
        string[] passwords = Enumerable.Range(0, 8).Select(i => $"password-{i}").ToArray();
        string[] hashes = passwords.Select(hasher.Hash).ToArray();
        var results = new ConcurrentBag<bool>();
        Parallel.For(0, 32, i =>
        {
            int n = i % passwords.Length;
            results.Add(hasher.Verify(hashes[n], passwords[n]).Matches);
            results.Add(!hasher.Verify(hashes[n], passwords[(n + 1) % passwords.Length]).Matches);
        });
        Assert.That(results, Has.Count.EqualTo(64).And.All.True);
    }
}
