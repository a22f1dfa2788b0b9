namespace MailAuth.Core.Tests.Passwords;

/// <summary>
/// Hashes made by other tools, so that verification is checked against independent implementations
/// rather than against this code's own output. Each was re-checked when it was added.
/// </summary>
internal static class TestVectors
{
    public const string Argon2Password = "correct horse battery staple";

    // Made once with Debian's reference argon2 CLI (package argon2 0~20171227-0.3+deb12u1), which the
    // tests do not need:
    //   printf '%s' 'correct horse battery staple' | argon2 saltsaltsaltsalt -id -k 19456 -t 2 -p 1 -e
    public const string Argon2Id =
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLUxlMkZycXE1uWRM";

    //   printf '%s' 'correct horse battery staple' | argon2 saltsaltsaltsalt -i -k 19456 -t 2 -p 1 -e
    public const string Argon2I =
        "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YwjQ4src0wfskLx1Fo/zbPnLWopM6XnS42fesFj2sKQ";

    // Two lanes. libsodium 1.0.18 cannot *compute* p > 1 but does verify it (lanes are processed one
    // after the other), so such imported hashes work and are rehashed to p=1 at the next login.
    //   printf '%s' 'correct horse battery staple' | argon2 saltsaltsaltsalt -id -k 19456 -t 2 -p 2 -e
    public const string Argon2IdTwoLanes =
        "$argon2id$v=19$m=19456,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$Ij0HTW2GuzXjMiTtWKj9YuXBoZLzp9N/JtMQM/zS1xE";

    public const string Utf8Password = "pässwörd-日本";

    //   printf '%s' 'pässwörd-日本' | argon2 unicodesaltvalue -id -k 8192 -t 1 -p 1 -e   (UTF-8 locale)
    public const string Argon2IdUtf8 =
        "$argon2id$v=19$m=8192,t=1,p=1$dW5pY29kZXNhbHR2YWx1ZQ$w5mGR8TSmJn+xBHBgXdUej7mCBE+em3CC6hK9vagJ58";

    // Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", test vectors (password "Hello world!");
    // openssl passwd -5/-6 reproduces all four.
    public const string DrepperPassword = "Hello world!";

    public const string Sha512Drepper =
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";

    // The setting "rounds=10000$saltstringsaltstring" shows that salts are cut to 16 characters.
    public const string Sha512DrepperRounds =
        "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";

    public const string Sha256Drepper = "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5";

    public const string Sha256DrepperRounds =
        "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA";

    // Openwall crypt_blowfish's wrapper.c test vector (the classic "U*U").
    public const string BcryptOpenwallPassword = "U*U";

    public const string BcryptOpenwall = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

    // The PHP manual's password_verify() example, made by PHP's password_hash().
    public const string BcryptPhpPassword = "rasmuslerdorf";

    public const string BcryptPhp = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a";
}
