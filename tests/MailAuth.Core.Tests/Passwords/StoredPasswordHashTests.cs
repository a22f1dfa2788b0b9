using MailAuth.Core.Passwords;

namespace MailAuth.Core.Tests.Passwords;

[TestFixture]
internal sealed class StoredPasswordHashTests
{
    private const string Supported = "ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, PLAIN";
    private const string Argon2Salt = "c2FsdHNhbHRzYWx0c2FsdA";
    private const string Argon2Hash = "QKHrg5tayLGcN+Y0HVPNaBqykOVLUxlMkZycXE1uWRM";
    private const string BcryptBody = "CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    private const string Sha512Body =
        "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";

    [TestCase("{ARGON2ID}" + TestVectors.Argon2Id, PasswordScheme.Argon2Id, "{ARGON2ID}" + TestVectors.Argon2Id)]
    [TestCase("{argon2id}" + TestVectors.Argon2Id, PasswordScheme.Argon2Id, "{ARGON2ID}" + TestVectors.Argon2Id)]
    [TestCase(TestVectors.Argon2Id, PasswordScheme.Argon2Id, "{ARGON2ID}" + TestVectors.Argon2Id)]
    [TestCase("{ARGON2ID}" + TestVectors.Argon2IdTwoLanes, PasswordScheme.Argon2Id, "{ARGON2ID}" + TestVectors.Argon2IdTwoLanes)]
    [TestCase("{Argon2I}" + TestVectors.Argon2I, PasswordScheme.Argon2I, "{ARGON2I}" + TestVectors.Argon2I)]
    [TestCase(TestVectors.Argon2I, PasswordScheme.Argon2I, "{ARGON2I}" + TestVectors.Argon2I)]
    [TestCase("{BLF-CRYPT}" + TestVectors.BcryptPhp, PasswordScheme.BlfCrypt, "{BLF-CRYPT}" + TestVectors.BcryptPhp)]
    [TestCase(TestVectors.BcryptOpenwall, PasswordScheme.BlfCrypt, "{BLF-CRYPT}" + TestVectors.BcryptOpenwall)]
    [TestCase("$2b$05$" + BcryptBody, PasswordScheme.BlfCrypt, "{BLF-CRYPT}$2b$05$" + BcryptBody)]
    [TestCase("{SHA512-CRYPT}" + TestVectors.Sha512Drepper, PasswordScheme.Sha512Crypt, "{SHA512-CRYPT}" + TestVectors.Sha512Drepper)]
    [TestCase(TestVectors.Sha512DrepperRounds, PasswordScheme.Sha512Crypt, "{SHA512-CRYPT}" + TestVectors.Sha512DrepperRounds)]
    [TestCase("$6$$" + Sha512Body, PasswordScheme.Sha512Crypt, "{SHA512-CRYPT}$6$$" + Sha512Body)]
    [TestCase("{sha256-crypt}" + TestVectors.Sha256Drepper, PasswordScheme.Sha256Crypt, "{SHA256-CRYPT}" + TestVectors.Sha256Drepper)]
    [TestCase(TestVectors.Sha256DrepperRounds, PasswordScheme.Sha256Crypt, "{SHA256-CRYPT}" + TestVectors.Sha256DrepperRounds)]
    [TestCase("{PLAIN}secret", PasswordScheme.Plain, "{PLAIN}secret")]
    [TestCase("{CLEARTEXT}secret", PasswordScheme.Plain, "{PLAIN}secret")]
    [TestCase("{plain}p:a s{}$6$", PasswordScheme.Plain, "{PLAIN}p:a s{}$6$")]
    public void ValidFieldsParseToTheirCanonicalForm(string field, PasswordScheme scheme, string canonical)
    {
        bool parsed = StoredPasswordHash.TryParse(field, out var hash, out string? error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.True, error);
            Assert.That(error, Is.Null);
            Assert.That(hash?.Scheme, Is.EqualTo(scheme));
            Assert.That(hash?.ToString(), Is.EqualTo(canonical));
            Assert.That(hash?.Value, Is.EqualTo(canonical[(canonical.IndexOf('}', StringComparison.Ordinal) + 1)..]));
        }
    }

    [TestCase(null, ExpectedResult = "the password hash is empty")]
    [TestCase("", ExpectedResult = "the password hash is empty")]
    [TestCase("secret", ExpectedResult = "missing {SCHEME} prefix")]
    [TestCase("$1$abcdefgh$MD5cryptIsNotSupported", ExpectedResult = "missing {SCHEME} prefix")]
    [TestCase("$2x$05$" + BcryptBody, ExpectedResult = "missing {SCHEME} prefix")]
    [TestCase("{MD5-CRYPT}$1$abcdefgh$x", ExpectedResult = "unknown scheme {MD5-CRYPT}; supported: " + Supported)]
    [TestCase("{}secret", ExpectedResult = "unknown scheme {}; supported: " + Supported)]
    [TestCase("{ARGON2ID$argon2id$v=19", ExpectedResult = "missing '}' after the scheme name")]
    [TestCase("{PLAIN}", ExpectedResult = "nothing follows {PLAIN}")]
    [TestCase("{cleartext}", ExpectedResult = "nothing follows {PLAIN}")]
    [TestCase("{ARGON2ID}", ExpectedResult = "nothing follows {ARGON2ID}")]
    // Argon2
    [TestCase("{ARGON2ID}" + TestVectors.Argon2I, ExpectedResult = "an {ARGON2ID} hash must start with $argon2id$")]
    [TestCase("{ARGON2I}" + TestVectors.Argon2Id, ExpectedResult = "an {ARGON2I} hash must start with $argon2i$")]
    [TestCase("$argon2id$v=16$m=19456,t=2,p=1$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "argon2 version v=16 is not supported, only v=19")]
    [TestCase("$argon2id$m=19456,t=2,p=1$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "an argon2 hash must look like $argon2id$v=19$m=N,t=N,p=N$salt$hash")]
    [TestCase("$argon2id$v=19$t=2,m=19456,p=1$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "an argon2 hash must look like $argon2id$v=19$m=N,t=N,p=N$salt$hash")]
    [TestCase("$argon2id$v=19$m=019456,t=2,p=1$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "an argon2 hash must look like $argon2id$v=19$m=N,t=N,p=N$salt$hash")]
    [TestCase("$argon2id$v=19$m=19456,t=2,p=1$" + Argon2Salt + "$" + Argon2Hash + "=", ExpectedResult = "an argon2 hash must look like $argon2id$v=19$m=N,t=N,p=N$salt$hash")]
    [TestCase("$argon2id$v=19$m=19456,t=2,p=1$" + Argon2Salt + "$" + Argon2Hash + "\n", ExpectedResult = "an argon2 hash must look like $argon2id$v=19$m=N,t=N,p=N$salt$hash")]
    [TestCase("$argon2i$v=19$m=19456,t=2,p=1$" + Argon2Salt, ExpectedResult = "an argon2 hash must look like $argon2i$v=19$m=N,t=N,p=N$salt$hash")]
    [TestCase("$argon2id$v=19$m=4,t=2,p=1$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "argon2 memory m=4 KiB must be between 8 (8 per lane) and 4194304")]
    [TestCase("$argon2id$v=19$m=8,t=2,p=2$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "argon2 memory m=8 KiB must be between 16 (8 per lane) and 4194304")]
    [TestCase("$argon2id$v=19$m=4194305,t=2,p=1$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "argon2 memory m=4194305 KiB must be between 8 (8 per lane) and 4194304")]
    [TestCase("$argon2id$v=19$m=19456,t=0,p=1$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "argon2 iterations t=0 must be between 1 and 2147483647")]
    [TestCase("$argon2id$v=19$m=19456,t=2,p=0$" + Argon2Salt + "$" + Argon2Hash, ExpectedResult = "argon2 lanes p=0 must be between 1 and 16777215")]
    [TestCase("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + Argon2Hash, ExpectedResult = "the argon2 salt is shorter than 8 bytes")]
    [TestCase("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdB$" + Argon2Hash, ExpectedResult = "the argon2 salt is not canonical unpadded base64")]
    [TestCase("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2Fsd$" + Argon2Hash, ExpectedResult = "the argon2 salt is not canonical unpadded base64")]
    [TestCase("$argon2id$v=19$m=19456,t=2,p=1$" + Argon2Salt + "$QKHrg5tayLGcN+Y0", ExpectedResult = "the argon2 hash is shorter than 16 bytes (libsodium's minimum)")]
    [TestCase("$argon2id$v=19$m=19456,t=2,p=1$" + Argon2Salt + "$QKHrg5tayLGcN+Y0HVPNaBqykOVLUxlMkZycXE1uWRN", ExpectedResult = "the argon2 hash is not canonical unpadded base64")]
    // bcrypt
    [TestCase("$2y$03$" + BcryptBody, ExpectedResult = "bcrypt cost 03 is outside 04..31")]
    [TestCase("$2y$32$" + BcryptBody, ExpectedResult = "bcrypt cost 32 is outside 04..31")]
    [TestCase("$2y$5$" + BcryptBody, ExpectedResult = "a bcrypt hash must look like $2y$NN$ followed by 53 characters of ./A-Za-z0-9")]
    [TestCase("$2y$05$" + BcryptBody + "W", ExpectedResult = "a bcrypt hash must look like $2y$NN$ followed by 53 characters of ./A-Za-z0-9")]
    [TestCase("{BLF-CRYPT}$2x$05$" + BcryptBody, ExpectedResult = "a bcrypt hash must look like $2y$NN$ followed by 53 characters of ./A-Za-z0-9")]
    [TestCase("{BLF-CRYPT}ab0123456789.", ExpectedResult = "a bcrypt hash must look like $2y$NN$ followed by 53 characters of ./A-Za-z0-9")]
    [TestCase("$2a$05$CCCCCCCCCCCCCCCCCCCCCEE5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ExpectedResult = "the bcrypt salt or hash is not canonically encoded, so it could never match")]
    [TestCase("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX", ExpectedResult = "the bcrypt salt or hash is not canonically encoded, so it could never match")]
    // SHA-crypt
    [TestCase("{SHA512-CRYPT}" + TestVectors.Sha256Drepper, ExpectedResult = "a SHA512-CRYPT hash must look like $6$[rounds=N$]salt$ followed by 86 characters of ./0-9A-Za-z, with a salt of at most 16 such characters")]
    [TestCase("{SHA256-CRYPT}" + TestVectors.Sha512Drepper, ExpectedResult = "a SHA256-CRYPT hash must look like $5$[rounds=N$]salt$ followed by 43 characters of ./0-9A-Za-z, with a salt of at most 16 such characters")]
    [TestCase("$6$saltstringsaltstr$" + Sha512Body, ExpectedResult = "a SHA512-CRYPT hash must look like $6$[rounds=N$]salt$ followed by 86 characters of ./0-9A-Za-z, with a salt of at most 16 such characters")]
    [TestCase("$6$salt:string$" + Sha512Body, ExpectedResult = "a SHA512-CRYPT hash must look like $6$[rounds=N$]salt$ followed by 86 characters of ./0-9A-Za-z, with a salt of at most 16 such characters")]
    [TestCase("$6$rounds=01000$saltstring$" + Sha512Body, ExpectedResult = "a SHA512-CRYPT hash must look like $6$[rounds=N$]salt$ followed by 86 characters of ./0-9A-Za-z, with a salt of at most 16 such characters")]
    [TestCase("$6$rounds=999$saltstring$" + Sha512Body, ExpectedResult = "SHA512-CRYPT rounds=999 is outside 1000..999999999")]
    [TestCase("$5$rounds=1000000000$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", ExpectedResult = "SHA256-CRYPT rounds=1000000000 is outside 1000..999999999")]
    [TestCase("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz2", ExpectedResult = "the SHA512-CRYPT hash is not canonically encoded, so it could never match")]
    [TestCase("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEcE", ExpectedResult = "the SHA256-CRYPT hash is not canonically encoded, so it could never match")]
    public string? InvalidFieldsAreRefusedWithAReason(string? field)
    {
        bool parsed = StoredPasswordHash.TryParse(field, out var hash, out string? error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.False);
            Assert.That(hash, Is.Null);
        }

        return error;
    }

    [Test]
    public void Argon2ParametersAreExposed()
    {
        var argon2 = StoredPasswordHash.Parse(TestVectors.Argon2IdTwoLanes).Argon2;
        var sha = StoredPasswordHash.Parse(TestVectors.Sha512Drepper).Argon2;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(argon2, Is.EqualTo(new Argon2Parameters(MemoryKiB: 19456, Iterations: 2, Parallelism: 2)));
            Assert.That(sha, Is.Null);
        }
    }

    [Test]
    public void ParseThrowsFormatExceptionWithTheError()
    {
        Assert.That(
            () => StoredPasswordHash.Parse("{MD5}x"),
            Throws.TypeOf<FormatException>().With.Message.EqualTo("unknown scheme {MD5}; supported: " + Supported));
    }

    [Test]
    public void EverySchemeNameRoundTrips()
    {
        foreach (var scheme in Enum.GetValues<PasswordScheme>())
        {
            string field = scheme switch
            {
                PasswordScheme.Argon2Id => TestVectors.Argon2Id,
                PasswordScheme.Argon2I => TestVectors.Argon2I,
                PasswordScheme.BlfCrypt => TestVectors.BcryptPhp,
                PasswordScheme.Sha512Crypt => TestVectors.Sha512Drepper,
                PasswordScheme.Sha256Crypt => TestVectors.Sha256Drepper,
                _ => "x",
            };
            var hash = StoredPasswordHash.Parse($"{{{StoredPasswordHash.SchemeName(scheme)}}}{field}");
            Assert.That(hash.Scheme, Is.EqualTo(scheme));
        }
    }
}
