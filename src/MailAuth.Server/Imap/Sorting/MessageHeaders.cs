using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Sorting;

/// <summary>
/// The header of a stored message alone, for SORT and THREAD keys: the file is read up to the
/// empty line that ends the header (at most <see cref="MaxHeaderBytes"/>), never the body.
/// </summary>
internal static class MessageHeaders
{
    /// <summary>A header longer than this is cut there; the keys come from what was read.</summary>
    public const int MaxHeaderBytes = 256 * 1024;

    private const int ChunkBytes = 8192;

    /// <summary>The parsed header, or null when the message is gone (expunged meanwhile).</summary>
    public static MimeEntity? Read(MaildirFolder folder, uint uid)
    {
        if (folder.FilePathOf(uid) is not { } path)
        {
            return null;
        }
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            // Grown as the header turns out longer: a large message does not cost a large buffer.
            var buffer = new byte[ChunkBytes];
            var length = 0;
            while (length < MaxHeaderBytes)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxHeaderBytes));
                }
                var read = stream.Read(buffer, length, buffer.Length - length);
                if (read == 0)
                {
                    break;
                }
                var scanFrom = Math.Max(0, length - 2);
                length += read;
                if (HeaderEnd(buffer, scanFrom, length) is var end and >= 0)
                {
                    length = end;
                    break;
                }
            }
            return MimeEntity.Parse(buffer[..length]);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The offset just past the empty line (LF LF or LF CR LF) ending the header, or -1.</summary>
    private static int HeaderEnd(byte[] buffer, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            if (buffer[i] != '\n')
            {
                continue;
            }
            if (i + 1 < to && buffer[i + 1] == '\n')
            {
                return i + 2;
            }
            if (i + 2 < to && buffer[i + 1] == '\r' && buffer[i + 2] == '\n')
            {
                return i + 3;
            }
        }
        return -1;
    }
}
