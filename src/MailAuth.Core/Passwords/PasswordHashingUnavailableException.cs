namespace MailAuth.Core.Passwords;

/// <summary>
/// A native library that password hashing needs (libsodium, libcrypt) cannot be loaded. This is a
/// deployment error, not a wrong password: the message says which package to install.
/// </summary>
public sealed class PasswordHashingUnavailableException : Exception
{
    public PasswordHashingUnavailableException()
        : base("password hashing is unavailable")
    {
    }

    public PasswordHashingUnavailableException(string message)
        : base(message)
    {
    }

    public PasswordHashingUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
