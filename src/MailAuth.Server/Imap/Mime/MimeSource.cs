using Microsoft.Win32.SafeHandles;

namespace MailAuth.Server.Imap.Mime;

/// <summary>
/// The bytes a message is parsed from: an array (SEARCH, tests) or an open file read by position
/// through one small window, so that a 40 MiB message is never held in memory to find its parts.
/// </summary>
internal sealed class MimeSource
{
    private const int WindowSize = 64 * 1024;

    private readonly byte[]? _array;
    private readonly SafeFileHandle? _file;
    private byte[]? _window;
    private long _windowStart;
    private int _windowLength;

    private MimeSource(byte[]? array, SafeFileHandle? file, long length)
    {
        _array = array;
        _file = file;
        Length = length;
    }

    public long Length { get; }

    /// <summary>The bytes when the source is an array; null for a file.</summary>
    public byte[]? Array => _array;

    public static MimeSource FromArray(byte[] data) => new(data, null, data.Length);

    /// <summary>A file's bytes as they are now; the handle stays the caller's, and must stay open while the source is used.</summary>
    public static MimeSource FromFile(SafeFileHandle file) => new(null, file, RandomAccess.GetLength(file));

    /// <summary>The byte at <paramref name="position"/> (which is below <see cref="Length"/>).</summary>
    public byte this[long position] => _array is not null ? _array[position] : Window(position)[(int)(position - _windowStart)];

    /// <summary>The first <c>'\n'</c> in [<paramref name="start"/>, <paramref name="end"/>), or -1.</summary>
    public long IndexOfNewline(long start, long end)
    {
        if (_array is not null)
        {
            var found = _array.AsSpan((int)start, (int)(end - start)).IndexOf((byte)'\n');
            return found < 0 ? -1 : start + found;
        }
        for (var position = start; position < end;)
        {
            var window = Window(position);
            var offset = (int)(position - _windowStart);
            var count = (int)Math.Min(_windowLength - offset, end - position);
            var found = window.AsSpan(offset, count).IndexOf((byte)'\n');
            if (found >= 0)
            {
                return position + found;
            }
            position += count;
        }
        return -1;
    }

    /// <summary>Copies the bytes from <paramref name="start"/> into <paramref name="destination"/>, which must lie within the source.</summary>
    public void CopyTo(long start, Span<byte> destination)
    {
        if (_array is not null)
        {
            _array.AsSpan((int)start, destination.Length).CopyTo(destination);
            return;
        }
        while (destination.Length > 0)
        {
            var window = Window(start);
            var offset = (int)(start - _windowStart);
            var count = Math.Min(_windowLength - offset, destination.Length);
            window.AsSpan(offset, count).CopyTo(destination);
            destination = destination[count..];
            start += count;
        }
    }

    /// <summary>A copy of [<paramref name="start"/>, <paramref name="end"/>): only for bounded ranges (header lines, small sections).</summary>
    public byte[] Read(long start, long end)
    {
        var bytes = new byte[end - start];
        CopyTo(start, bytes);
        return bytes;
    }

    /// <summary>The window holding <paramref name="position"/>, read from the file when it is not there yet.</summary>
    private byte[] Window(long position)
    {
        _window ??= new byte[WindowSize];
        if (position < _windowStart || position >= _windowStart + _windowLength)
        {
            _windowStart = position;
            _windowLength = RandomAccess.Read(_file!, _window.AsSpan(0, (int)Math.Min(WindowSize, Length - position)), position);
            if (_windowLength == 0)
            {
                // Truncated behind our back since its length was taken: read as spaces rather than loop.
                _windowLength = (int)Math.Min(WindowSize, Length - position);
                _window.AsSpan(0, _windowLength).Fill((byte)' ');
            }
        }
        return _window;
    }
}
