using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace MailAuth.Core.Passwords;

/// <summary>
/// The system crypt(3) (libxcrypt, Debian package libcrypt1) for the legacy schemes that imported
/// hashes may use: bcrypt (<c>$2y$</c>), SHA512-CRYPT (<c>$6$</c>), SHA256-CRYPT (<c>$5$</c>).
/// </summary>
internal static unsafe partial class LibCrypt
{
    internal const string LibraryName = "libcrypt.so.1";

    /// <summary><c>sizeof(struct crypt_data)</c> in libxcrypt.</summary>
    private const int CryptDataSize = 32768;

    /// <summary>
    /// True when crypt(<paramref name="password"/>, <paramref name="cryptHash"/>) reproduces
    /// <paramref name="cryptHash"/>. The caller must have validated the hash's format: crypt(3)
    /// also accepts weak setting strings (e.g. two-character DES salts) that must never reach it.
    /// </summary>
    public static bool Verify(string cryptHash, string password)
    {
        // C strings end at the first NUL: "secret\0anything" would otherwise match "secret".
        if (password.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        byte[] setting = Encoding.UTF8.GetBytes(cryptHash + "\0");
        using var phrase = new SensitiveUtf8(password, stackalloc byte[256]);
        // struct crypt_data must be zeroed before its first use; it holds password-derived state.
        byte* data = (byte*)NativeMemory.AllocZeroed(CryptDataSize);
        try
        {
            byte* computed;
            fixed (byte* phrasePointer = phrase.NulTerminated)
            fixed (byte* settingPointer = setting)
            {
                computed = CryptRn(phrasePointer, settingPointer, data, CryptDataSize);
            }

            // Failure is NULL or a string starting with '*' ("*0"/"*1"), never equal to a valid hash.
            if (computed is null || *computed == (byte)'*')
            {
                return false;
            }

            var computedBytes = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(computed);
            return CryptographicOperations.FixedTimeEquals(computedBytes, setting.AsSpan(0, setting.Length - 1));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new PasswordHashingUnavailableException(
                $"cannot load libcrypt ({LibraryName}): install the Debian package libcrypt1", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(new Span<byte>(data, CryptDataSize));
            NativeMemory.Free(data);
        }
    }

    [LibraryImport(LibraryName, EntryPoint = "crypt_rn")]
    private static partial byte* CryptRn(byte* phrase, byte* setting, byte* data, int size);
}
