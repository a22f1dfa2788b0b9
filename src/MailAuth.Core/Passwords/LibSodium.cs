using System.Runtime.InteropServices;
using System.Text;

namespace MailAuth.Core.Passwords;

/// <summary>
/// Argon2 through libsodium's <c>crypto_pwhash_*</c> API (Debian package libsodium23). libsodium's
/// Argon2 is single-threaded and about twice as fast as the reference libargon2 on this hardware.
/// </summary>
internal static unsafe partial class LibSodium
{
    internal const string LibraryName = "libsodium.so.23";

    /// <summary><c>crypto_pwhash_ALG_ARGON2ID13</c>.</summary>
    private const int AlgArgon2Id13 = 2;

    /// <summary><c>crypto_pwhash_STRBYTES</c>: the size of the output buffer, NUL included.</summary>
    private const int StrBytes = 128;

    private static readonly string[] RequiredExports =
    [
        "sodium_init", "crypto_pwhash_str_alg", "crypto_pwhash_str_verify", "crypto_pwhash_str_needs_rehash",
    ];

    private static readonly Lazy<string?> InitialisationProblem = new(() => FindProblem(LibraryName));

    /// <summary>
    /// Loads and initialises libsodium once. Throws <see cref="PasswordHashingUnavailableException"/>
    /// with a one-line, actionable message when it cannot.
    /// </summary>
    public static void EnsureAvailable()
    {
        if (InitialisationProblem.Value is { } problem)
        {
            throw new PasswordHashingUnavailableException(problem);
        }
    }

    /// <summary>A <c>$argon2id$v=19$…</c> string for <paramref name="password"/> with a fresh random salt.</summary>
    public static string HashArgon2Id(string password, int iterations, int memoryKiB)
    {
        EnsureAvailable();
        using var passwordBytes = new SensitiveUtf8(password, stackalloc byte[256]);
        byte* output = stackalloc byte[StrBytes];
        int result;
        fixed (byte* passwordPointer = passwordBytes.Bytes)
        {
            result = CryptoPwhashStrAlg(
                output, passwordPointer, (ulong)passwordBytes.Length, (ulong)iterations, MemoryLimit(memoryKiB), AlgArgon2Id13);
        }

        if (result != 0)
        {
            // The only runtime failure left once the parameters are valid is a failed allocation.
            throw new InsufficientMemoryException(
                $"libsodium could not compute an Argon2id hash with {memoryKiB} KiB of memory.");
        }

        return Marshal.PtrToStringAnsi((IntPtr)output)!;
    }

    /// <summary>
    /// True when <paramref name="password"/> matches a <c>$argon2id$</c> or <c>$argon2i$</c> string.
    /// libsodium compares in constant time.
    /// </summary>
    public static bool Verify(string phcString, string password)
    {
        EnsureAvailable();
        byte[] phc = ToCString(phcString);
        using var passwordBytes = new SensitiveUtf8(password, stackalloc byte[256]);
        fixed (byte* phcPointer = phc)
        fixed (byte* passwordPointer = passwordBytes.Bytes)
        {
            return CryptoPwhashStrVerify(phcPointer, passwordPointer, (ulong)passwordBytes.Length) == 0;
        }
    }

    /// <summary>
    /// True when the string's memory or iteration cost differs from the given ones, or it is not
    /// Argon2id. libsodium (1.0.18) ignores the lane count here: callers must check p themselves.
    /// </summary>
    public static bool NeedsRehash(string phcString, int iterations, int memoryKiB)
    {
        EnsureAvailable();
        byte[] phc = ToCString(phcString);
        fixed (byte* phcPointer = phc)
        {
            return CryptoPwhashStrNeedsRehash(phcPointer, (ulong)iterations, MemoryLimit(memoryKiB)) != 0;
        }
    }

    /// <summary>Why <paramref name="libraryName"/> cannot serve as libsodium, or null when it can.</summary>
    internal static string? FindProblem(string libraryName)
    {
        const string Install = "install the Debian package libsodium23";
        if (!NativeLibrary.TryLoad(libraryName, typeof(LibSodium).Assembly, null, out IntPtr handle))
        {
            return $"cannot load libsodium ({libraryName}): {Install}";
        }

        foreach (string export in RequiredExports)
        {
            if (!NativeLibrary.TryGetExport(handle, export, out _))
            {
                return $"libsodium ({libraryName}) has no {export}: {Install} (1.0.15 or later)";
            }
        }

        try
        {
            // 0: initialised now, 1: already initialised, -1: failure.
            return SodiumInit() < 0 ? $"libsodium ({libraryName}) failed to initialise" : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"cannot load libsodium ({LibraryName}): {Install}";
        }
    }

    private static nuint MemoryLimit(int memoryKiB) => (nuint)memoryKiB * 1024;

    /// <summary>
    /// NUL-terminated ASCII, at least <c>crypto_pwhash_STRBYTES</c> long because the C prototypes
    /// declare <c>const char str[crypto_pwhash_STRBYTES]</c>.
    /// </summary>
    private static byte[] ToCString(string value)
    {
        var bytes = new byte[Math.Max(Encoding.UTF8.GetByteCount(value) + 1, StrBytes)];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    [LibraryImport(LibraryName, EntryPoint = "sodium_init")]
    private static partial int SodiumInit();

    [LibraryImport(LibraryName, EntryPoint = "crypto_pwhash_str_alg")]
    private static partial int CryptoPwhashStrAlg(
        byte* output, byte* passwd, ulong passwdlen, ulong opslimit, nuint memlimit, int alg);

    [LibraryImport(LibraryName, EntryPoint = "crypto_pwhash_str_verify")]
    private static partial int CryptoPwhashStrVerify(byte* str, byte* passwd, ulong passwdlen);

    [LibraryImport(LibraryName, EntryPoint = "crypto_pwhash_str_needs_rehash")]
    private static partial int CryptoPwhashStrNeedsRehash(byte* str, ulong opslimit, nuint memlimit);
}
