using System.Text;
using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// One CATENATE message (RFC 4469 §5): every URL is resolved (to the user's own folders only) and
/// every part sized before a byte is written, then the parts are copied into a new file in tmp/,
/// from the literals and straight from the referenced messages' files.
/// </summary>
internal sealed class Catenation(MaildirStore store, long maxSize)
{
    private const int CopySize = 64 * 1024;

    /// <summary>The new file, or the refusal (text and response code) when a URL is bad or the message too large.</summary>
    public async Task<(string? File, (string Text, string Code)? Refusal)> BuildAsync(IReadOnlyList<CatenatePart> parts, CancellationToken cancellationToken)
    {
        var opened = new List<FileStream>();
        try
        {
            var pieces = new List<(ImapLiteral? Text, FileStream? Source, SectionContent? Content)>();
            long total = 0;
            foreach (var part in parts)
            {
                if (part.Text is { } text)
                {
                    pieces.Add((text, null, null));
                    total += text.Length;
                    continue;
                }
                if (Resolve(part.Url!, opened) is not var (source, content))
                {
                    return (null, ("The URL does not name a message part of yours", "BADURL " + Echo(part.Url!)));
                }
                pieces.Add((null, source, content));
                total += content.Length;
            }
            if (total > maxSize)
            {
                return (null, ($"The message would be larger than the limit of {maxSize} bytes", "TOOBIG"));
            }
            var file = Path.Combine(store.Root, "tmp", $"imap-catenate-{Guid.NewGuid():N}");
            var complete = false;
            try
            {
                await using (var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopySize, useAsync: true))
                {
                    foreach (var (text, source, content) in pieces)
                    {
                        await (text is not null ? CopyLiteralAsync(text, output, cancellationToken) : CopyAsync(source!, content!, output, cancellationToken));
                    }
                    DurableFile.FlushToDisk(output);
                }
                complete = true;
                return (file, null);
            }
            finally
            {
                if (!complete)
                {
                    File.Delete(file);
                }
            }
        }
        finally
        {
            foreach (var stream in opened)
            {
                await stream.DisposeAsync();
            }
        }
    }

    /// <summary>The open file and the bytes a URL names, or null when it names nothing of the user's.</summary>
    private (FileStream, SectionContent)? Resolve(string text, List<FileStream> opened)
    {
        if (ImapUrl.Parse(text) is not { } url || store.Open(url.Mailbox) is not { } folder)
        {
            return null;
        }
        if ((url.UidValidity is { } validity && validity != folder.Synchronize().UidValidity) || folder.FilePathOf(url.Uid) is not { } path)
        {
            return null;
        }
        FileStream file;
        try
        {
#pragma warning disable CA2000 // disposed with the others in BuildAsync's finally, after the copy
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
#pragma warning restore CA2000
        }
        catch (FileNotFoundException)
        {
            return null; // Expunged meanwhile.
        }
        opened.Add(file);
        var content = SectionContent.Range(0, file.Length);
        if (url.Section is { } section)
        {
            var message = MimeEntity.Parse(MimeSource.FromFile(file.SafeFileHandle));
            if (MessageFormatter.Part(message, section.Part) is null)
            {
                return null;
            }
            content = MessageFormatter.Locate(message, section);
        }
        return (file, content.Partial(url.PartialOffset, url.PartialLength));
    }

    private static async Task CopyLiteralAsync(ImapLiteral text, FileStream output, CancellationToken cancellationToken)
    {
        if (text.Data is { } data)
        {
            await output.WriteAsync(data, cancellationToken);
            return;
        }
        await using var input = new FileStream(text.FilePath!, FileMode.Open, FileAccess.Read, FileShare.Read, CopySize, useAsync: true);
        await input.CopyToAsync(output, CopySize, cancellationToken);
    }

    private static async Task CopyAsync(FileStream source, SectionContent content, FileStream output, CancellationToken cancellationToken)
    {
        var buffer = new byte[CopySize];
        foreach (var piece in content.Pieces)
        {
            if (piece.Bytes is { } bytes)
            {
                await output.WriteAsync(bytes, cancellationToken);
                continue;
            }
            for (var done = 0L; done < piece.Length;)
            {
                var read = await RandomAccess.ReadAsync(source.SafeFileHandle, buffer.AsMemory(0, (int)Math.Min(CopySize, piece.Length - done)), piece.Start + done, cancellationToken);
                if (read == 0)
                {
                    throw new IOException("a message was truncated while it was copied");
                }
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                done += read;
            }
        }
    }

    /// <summary>The URL as echoed in [BADURL …]: printable ASCII, no ']', bounded.</summary>
    private static string Echo(string url)
    {
        var clean = new StringBuilder();
        foreach (var c in url.Take(1000))
        {
            clean.Append(c is > ' ' and < '\x7f' and not ']' ? c : '?');
        }
        return clean.ToString();
    }
}
