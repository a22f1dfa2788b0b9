namespace MailAuth.Core.Passwords;

/// <summary>The stored-hash schemes understood here, named after Dovecot's (see <see cref="StoredPasswordHash"/>).</summary>
internal enum PasswordScheme
{
    /// <summary><c>{ARGON2ID}</c>: the scheme of every new hash.</summary>
    Argon2Id,

    /// <summary><c>{ARGON2I}</c>.</summary>
    Argon2I,

    /// <summary><c>{BLF-CRYPT}</c>: bcrypt, <c>$2y$</c>/<c>$2b$</c>/<c>$2a$</c>.</summary>
    BlfCrypt,

    /// <summary><c>{SHA512-CRYPT}</c>: <c>$6$</c>.</summary>
    Sha512Crypt,

    /// <summary><c>{SHA256-CRYPT}</c>: <c>$5$</c>.</summary>
    Sha256Crypt,

    /// <summary><c>{PLAIN}</c> (alias <c>{CLEARTEXT}</c>): the password itself.</summary>
    Plain,
}
