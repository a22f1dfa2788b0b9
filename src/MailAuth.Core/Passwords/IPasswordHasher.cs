namespace MailAuth.Core.Passwords;

/// <summary>
/// Hashes new passwords with Argon2id and verifies stored hashes of every supported scheme.
/// Stored hashes always carry their Dovecot scheme prefix, e.g. <c>{ARGON2ID}$argon2id$v=19$…</c>.
/// </summary>
public interface IPasswordHasher
{
    /// <summary>A fresh <c>{ARGON2ID}</c> hash at the configured parameters.</summary>
    string Hash(string password);

    /// <summary>
    /// Checks <paramref name="password"/> against <paramref name="storedHash"/> in constant time.
    /// <see cref="PasswordCheck.NeedsRehash"/> is true when the password matched and the stored hash is
    /// not Argon2id at the configured parameters.
    /// </summary>
    PasswordCheck Verify(string storedHash, string password);

    /// <summary>
    /// A hash of a random password at the configured parameters, verified in place of a real one so
    /// that an unknown address costs the same time as a wrong password.
    /// </summary>
    string DummyHash { get; }
}

public readonly record struct PasswordCheck(bool Matches, bool NeedsRehash);
