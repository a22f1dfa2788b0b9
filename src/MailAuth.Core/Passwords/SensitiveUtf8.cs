using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace MailAuth.Core.Passwords;

/// <summary>
/// A password encoded as UTF-8 followed by a NUL (C functions such as <c>crypt_rn</c> need one), in
/// a caller-provided stack buffer or a rented array, wiped on <see cref="Dispose"/> so that the
/// plaintext does not linger in memory that is reused later.
/// </summary>
internal ref struct SensitiveUtf8
{
    private readonly Span<byte> _buffer;
    private byte[]? _rented;

    /// <param name="text">The secret.</param>
    /// <param name="stackBuffer">Used when large enough; otherwise an array is rented.</param>
    public SensitiveUtf8(string text, Span<byte> stackBuffer)
    {
        int maxLength = Encoding.UTF8.GetMaxByteCount(text.Length) + 1;
        if (maxLength <= stackBuffer.Length)
        {
            _buffer = stackBuffer;
        }
        else
        {
            _rented = ArrayPool<byte>.Shared.Rent(maxLength);
            _buffer = _rented;
        }

        Length = Encoding.UTF8.GetBytes(text, _buffer);
        _buffer[Length] = 0;
    }

    /// <summary>Number of UTF-8 bytes, without the terminating NUL.</summary>
    public int Length { get; }

    /// <summary>The UTF-8 bytes without the terminating NUL.</summary>
    public readonly ReadOnlySpan<byte> Bytes => _buffer[..Length];

    /// <summary>The UTF-8 bytes and the terminating NUL.</summary>
    public readonly ReadOnlySpan<byte> NulTerminated => _buffer[..(Length + 1)];

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_buffer);
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
    }
}
