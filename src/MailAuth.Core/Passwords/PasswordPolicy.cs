using System.Text;

namespace MailAuth.Core.Passwords;

/// <summary>What a new password must be. Applied when a password is set, never at login.</summary>
internal static class PasswordPolicy
{
    /// <summary>
    /// Longer input is refused before any hashing: Argon2 would accept it, but an unbounded
    /// secret is an unbounded amount of work and memory per attempt.
    /// </summary>
    public const int MaxBytes = 1024;

    public static bool IsWithinLength(string password) => Encoding.UTF8.GetByteCount(password) <= MaxBytes;

    /// <summary>Throws <see cref="CredentialOperationException"/> when <paramref name="password"/> may not be set.</summary>
    public static void EnsureAcceptable(string password)
    {
        if (password.Length == 0)
        {
            throw new CredentialOperationException("the password is empty");
        }
        if (!IsWithinLength(password))
        {
            throw new CredentialOperationException($"the password is longer than {MaxBytes} bytes");
        }
        // IMAP quoted strings and SASL PLAIN cannot carry these, so such a password could never log in.
        if (password.Any(char.IsControl))
        {
            throw new CredentialOperationException("the password contains control characters (such as a tab or NUL)");
        }
        // A lone surrogate, or bytes that were not UTF-8 when read, decode to U+FFFD.
        if (password.EnumerateRunes().Any(r => r == Rune.ReplacementChar))
        {
            throw new CredentialOperationException("the password is not valid Unicode text");
        }
    }
}
