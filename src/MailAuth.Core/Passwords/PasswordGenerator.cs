using System.Security.Cryptography;

namespace MailAuth.Core.Passwords;

public static class PasswordGenerator
{
    // No 0/O, 1/l/I: the password is read off a screen and typed into a phone.
    private const string Alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    /// <summary>20 characters from a 57-symbol alphabet: about 116 bits of entropy.</summary>
    public static string Generate(int length = 20) => RandomNumberGenerator.GetString(Alphabet, length);
}
