using System.Buffers.Text;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Mime;

/// <summary>
/// A message appended as a literal8 (RFC 3516 §4.4) may hold parts with
/// <c>Content-Transfer-Encoding: binary</c>, NUL bytes included, which no BODY[] literal may carry
/// (RFC 3501 §4.3). Such parts are stored re-encoded as base64: BINARY[] gives their bytes back
/// as they were, BODY[] a text any IMAP4rev1 client can take. Copied from file to file in pieces.
/// </summary>
internal static class BinaryToBase64
{
    /// <summary>Base64 lines are 76 characters (RFC 2045 §6.8): 57 bytes each.</summary>
    private const int BytesPerLine = 57;

    private const int LinesPerRead = 1024;

    /// <summary>The file to store: <paramref name="path"/> itself when it has no binary part, else a new file next to it (the caller deletes both when done).</summary>
    public static string Convert(string path)
    {
        List<MimeEntity> binary;
        using (var input = File.OpenHandle(path))
        {
            binary = [];
            Collect(MimeEntity.Parse(MimeSource.FromFile(input)), binary);
        }
        if (binary.Count == 0)
        {
            return path;
        }
        var converted = path + ".base64";
        try
        {
            using var source = File.OpenHandle(path);
            using var output = new FileStream(converted, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
            var message = MimeSource.FromFile(source);
            var position = 0L;
            foreach (var entity in binary)
            {
                var header = entity.Headers.First(IsTransferEncoding);
                Copy(message, position, header.Start, output);
                output.Write("Content-Transfer-Encoding: base64\r\n"u8);
                Copy(message, header.End, entity.BodyStart, output);
                Encode(message, entity.BodyStart, entity.End, output);
                position = entity.End;
            }
            Copy(message, position, message.Length, output);
            DurableFile.FlushToDisk(output);
            return converted;
        }
        catch
        {
            File.Delete(converted);
            throw;
        }
    }

    /// <summary>The leaf parts declared binary, in the order they are in the file.</summary>
    private static void Collect(MimeEntity entity, List<MimeEntity> binary)
    {
        if (entity.Message is { } inner)
        {
            Collect(inner, binary);
        }
        else if (entity.IsMultipart && entity.Parts.Count > 0)
        {
            foreach (var part in entity.Parts)
            {
                Collect(part, binary);
            }
        }
        else if (entity.Headers.FirstOrDefault(IsTransferEncoding) is { } header && header.Value.Trim().Equals("binary", StringComparison.OrdinalIgnoreCase))
        {
            binary.Add(entity);
        }
    }

    private static bool IsTransferEncoding(MimeHeader header) => header.Name.Equals("Content-Transfer-Encoding", StringComparison.OrdinalIgnoreCase);

    private static void Copy(MimeSource source, long start, long end, FileStream output)
    {
        var buffer = new byte[64 * 1024];
        for (var position = start; position < end;)
        {
            var count = (int)Math.Min(buffer.Length, end - position);
            source.CopyTo(position, buffer.AsSpan(0, count));
            output.Write(buffer, 0, count);
            position += count;
        }
    }

    /// <summary>The bytes as base64 lines joined by CRLF; the CRLF after the last one belongs to what follows (a delimiter, or nothing).</summary>
    private static void Encode(MimeSource source, long start, long end, FileStream output)
    {
        var input = new byte[BytesPerLine * LinesPerRead];
        var line = new byte[Base64.GetMaxEncodedToUtf8Length(BytesPerLine)];
        var first = true;
        for (var position = start; position < end;)
        {
            var count = (int)Math.Min(input.Length, end - position);
            source.CopyTo(position, input.AsSpan(0, count));
            position += count;
            for (var offset = 0; offset < count; offset += BytesPerLine)
            {
                Base64.EncodeToUtf8(input.AsSpan(offset, Math.Min(BytesPerLine, count - offset)), line, out _, out var written);
                if (!first)
                {
                    output.Write("\r\n"u8);
                }
                first = false;
                output.Write(line, 0, written);
            }
        }
    }
}
