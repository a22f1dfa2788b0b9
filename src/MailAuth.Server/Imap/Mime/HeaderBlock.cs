namespace MailAuth.Server.Imap.Mime;

/// <summary>
/// The header of a stored message, read from its file up to the empty line that ends it and never
/// further (SEARCH header keys, SORT and THREAD keys): a large message costs no more than its header.
/// </summary>
internal static class HeaderBlock
{
    /// <summary>SORT and THREAD keys come from the first 256 KiB of a header, as FETCH's header text does.</summary>
    public const int SortKeyBytes = 256 * 1024;

    /// <summary>
    /// The parsed header of the file at <paramref name="path"/>, cut at <paramref name="maxBytes"/>
    /// when longer; null when there is no such file (expunged meanwhile).
    /// </summary>
    public static MimeEntity? Parse(string? path, int maxBytes)
    {
        try
        {
            return path is null ? null : MimeEntity.Parse(Read(path, maxBytes));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The bytes up to and including the empty line that ends the header, at most <paramref name="maxBytes"/>.</summary>
    private static byte[] Read(string path, int maxBytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        var header = new MemoryStream();
        var chunk = new byte[16 * 1024];
        var scanned = 0;
        int read;
        while (header.Length < maxBytes && (read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes - header.Length))) > 0)
        {
            header.Write(chunk, 0, read);
            var bytes = header.GetBuffer().AsSpan(0, (int)header.Length);
            if (bytes[0] == '\n' || bytes.StartsWith("\r\n"u8))
            {
                return bytes[..(bytes[0] == '\n' ? 1 : 2)].ToArray(); // no header at all
            }
            for (var i = Math.Max(0, scanned - 2); i < bytes.Length - 1; i++)
            {
                if (bytes[i] == '\n' && (bytes[i + 1] == '\n' || (bytes[i + 1] == '\r' && i + 2 < bytes.Length && bytes[i + 2] == '\n')))
                {
                    return bytes[..(i + (bytes[i + 1] == '\n' ? 2 : 3))].ToArray();
                }
            }
            scanned = bytes.Length;
        }
        return header.ToArray();
    }
}
