using System.Security.Cryptography;
using System.Text;

namespace MailAuth.Core.Storage;

/// <summary>
/// Encrypts the secrets the database must keep (2FA secrets, a reset token waiting in the outbox)
/// with AES-256-GCM under a key kept outside the database: <c>secrets.key</c> beside it, mode 0600,
/// generated on first use. A copy of the database alone then reveals none of them; back the key
/// up with the database, or 2FA has to be enrolled again after a restore.
/// </summary>
public sealed class SecretBox
{
    public const string FileName = "secrets.key";

    private const byte FormatVersion = 1;
    private const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    private readonly byte[] _key;

    private SecretBox(byte[] key) => _key = key;

    /// <summary>Loads the key from <paramref name="path"/>, creating it (atomically, 0600) when there is none.</summary>
    public static SecretBox OpenOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using (var file = new FileStream(temporary, options))
            {
                file.Write(RandomNumberGenerator.GetBytes(KeyBytes));
                file.Flush(flushToDisk: true);
            }
            try
            {
                // No overwrite: when a server and a CLI create it at once, the first one's key wins.
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }
        var key = File.ReadAllBytes(path);
        if (key.Length != KeyBytes)
        {
            throw new IOException($"the secrets key {path} is damaged ({key.Length} bytes instead of {KeyBytes}); restore it from the backup of the database");
        }
        return new SecretBox(key);
    }

    /// <summary><paramref name="plaintext"/> sealed for <paramref name="purpose"/>; only the same purpose opens it.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, string purpose)
    {
        var sealedBytes = new byte[1 + NonceBytes + plaintext.Length + TagBytes];
        sealedBytes[0] = FormatVersion;
        var nonce = sealedBytes.AsSpan(1, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(1 + NonceBytes, plaintext.Length), sealedBytes.AsSpan(1 + NonceBytes + plaintext.Length), Encoding.UTF8.GetBytes(purpose));
        return sealedBytes;
    }

    /// <summary>The plaintext of <paramref name="sealedBytes"/>; throws <see cref="CryptographicException"/> when it was not sealed with this key for this purpose.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedBytes, string purpose)
    {
        if (!IsSealed(sealedBytes))
        {
            throw new CryptographicException("not a sealed secret");
        }
        var length = sealedBytes.Length - 1 - NonceBytes - TagBytes;
        var plaintext = new byte[length];
        using var aes = new AesGcm(_key, TagBytes);
        aes.Decrypt(sealedBytes.Slice(1, NonceBytes), sealedBytes.Slice(1 + NonceBytes, length), sealedBytes.Slice(1 + NonceBytes + length, TagBytes), plaintext, Encoding.UTF8.GetBytes(purpose));
        return plaintext;
    }

    /// <summary>Whether <paramref name="bytes"/> look like the output of <see cref="Seal"/> (a raw secret from before encryption does not).</summary>
    public static bool IsSealed(ReadOnlySpan<byte> bytes) => bytes.Length >= 1 + NonceBytes + TagBytes && bytes[0] == FormatVersion;
}
