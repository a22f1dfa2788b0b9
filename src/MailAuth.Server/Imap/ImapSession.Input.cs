using System.Text;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Imap;

/// <summary>
/// Reading a command: its line, and for each literal announced at a line's end, the size check
/// against the limit of the current state before a single byte of it is read, "+ Ready" for a
/// synchronising literal, then the bytes (to memory when small, else to a file in tmp/).
/// </summary>
internal sealed partial class ImapSession
{
    /// <summary>Literals up to this size are held in memory; larger ones (APPEND messages) go to a file.</summary>
    private const int InMemoryLiteralLimit = 64 * 1024;

    /// <summary>A command with more literals than this is refused: <c>{0}</c> after <c>{0}</c> would never end.</summary>
    private const int MaxLiteralsPerCommand = 32;

    /// <summary>Returned (by reference) for a line that was too long, after the BAD answer.</summary>
    private static readonly byte[] TooLongLine = [];

    /// <summary>The next complete command, or null when the session must end (closed, timed out, BYE sent).</summary>
    private async Task<ImapCommandText?> ReadCommandAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var first = await ReadLineAsync(cancellationToken);
            if (first is null)
            {
                return null;
            }
            if (first.Length == 0)
            {
                continue; // Too long (already answered), or an empty line, which is no command.
            }
            var parts = new List<byte[]> { first };
            var starts = new List<int>();
            var literals = new List<ImapLiteral>();
            long inMemory = 0;
            var keep = false;
            try
            {
                while (true)
                {
                    var line = parts[^1];
                    var marker = LiteralMarker.Find(line);
                    if (marker.Kind == LiteralMarkerKind.None)
                    {
                        keep = true;
                        return new ImapCommandText(parts, starts, literals);
                    }
                    var tag = TagOf(first);
                    if (marker.Kind == LiteralMarkerKind.Invalid)
                    {
                        Write($"{tag} BAD Invalid literal size: expected {{n}} or {{n+}} with n a number\r\n");
                        break;
                    }
                    var limit = State == ImapState.NotAuthenticated ? Options.MaxLiteralSizeBeforeLogin : Options.MaxLiteralSize;
                    var toFile = marker.Size > InMemoryLiteralLimit && Store is not null;
                    var tooBig = marker.Size > limit
                        || literals.Count >= MaxLiteralsPerCommand
                        || (toFile ? literals.Any(l => l.FilePath is not null) : inMemory + marker.Size > Math.Max(InMemoryLiteralLimit, Options.MaxLineLength));
                    if (tooBig)
                    {
                        if (marker.Kind == LiteralMarkerKind.NonSynchronizing)
                        {
                            // RFC 7888 §4: the client is already sending the bytes; reading them to discard
                            // them would let anyone make us read without bound, so the connection ends.
                            Write("* BYE [TOOBIG] Literal too large, closing the connection\r\n");
                            await Connection.FlushAsync(cancellationToken);
                            return null;
                        }
                        Write($"{tag} NO [TOOBIG] Literal of {marker.Size} bytes is larger than the limit of {limit} bytes\r\n");
                        break;
                    }
                    if (marker.Kind == LiteralMarkerKind.Synchronizing)
                    {
                        Write("+ Ready for literal data\r\n");
                        if (!await Connection.FlushAsync(cancellationToken))
                        {
                            return null;
                        }
                    }
                    var literal = await ReadLiteralAsync(marker.Size, toFile, cancellationToken);
                    if (literal is null)
                    {
                        return null;
                    }
                    literals.Add(literal);
                    starts.Add(marker.Start);
                    if (!toFile)
                    {
                        inMemory += marker.Size;
                    }
                    var next = await ReadLineAsync(cancellationToken);
                    if (next is null)
                    {
                        return null;
                    }
                    if (ReferenceEquals(next, TooLongLine))
                    {
                        // The rest of the command was too long and is gone: the command is dropped.
                        Write($"{tag} BAD Command line too long, command ignored\r\n");
                        break;
                    }
                    parts.Add(next);
                }
            }
            finally
            {
                if (!keep)
                {
                    foreach (var literal in literals)
                    {
                        literal.Dispose();
                    }
                }
            }
            if (!await Connection.FlushAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    /// <summary>One line within the limits; null when the session must end. A too-long line is answered and skipped.</summary>
    private async Task<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await Connection.ReadLineAsync(Options.MaxLineLength, IdleTimeout, cancellationToken);
            switch (result.Status)
            {
                case LineStatus.Line:
                    return result.Line;
                case LineStatus.TooLong:
                    // The line was discarded up to its end; the session goes on with the next one.
                    Write($"* BAD Command line too long (the limit is {Options.MaxLineLength} bytes), ignored\r\n");
                    if (!await Connection.FlushAsync(cancellationToken))
                    {
                        return null;
                    }
                    return TooLongLine;
                case LineStatus.TimedOut:
                    Write("* BYE Idle timeout, closing the connection\r\n");
                    await Connection.FlushAsync(cancellationToken);
                    return null;
                default:
                    return null;
            }
        }
    }

    private async Task<ImapLiteral?> ReadLiteralAsync(long size, bool toFile, CancellationToken cancellationToken)
    {
        if (!toFile)
        {
            var buffer = new MemoryStream((int)size);
            return await Connection.CopyExactlyAsync(size, buffer, IdleTimeout, cancellationToken)
                ? ImapLiteral.InMemory(buffer.ToArray())
                : null;
        }
        // In the mailbox's own tmp/: same file system as every folder, so APPEND is a rename.
        var path = Path.Combine(RequireStore().Root, "tmp", $"imap-literal-{Guid.NewGuid():N}");
        var complete = false;
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                if (!await Connection.CopyExactlyAsync(size, file, IdleTimeout, cancellationToken))
                {
                    return null;
                }
                file.Flush(flushToDisk: true);
            }
            complete = true;
            return ImapLiteral.InFile(path, size);
        }
        finally
        {
            if (!complete)
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>The tag of a line for an error answer, or "*" when the line has none.</summary>
    private static string TagOf(byte[] line)
    {
        var length = 0;
        while (length < line.Length && length < 64 && ImapReader.IsAStringChar(line[length]) && line[length] != '+')
        {
            length++;
        }
        return length > 0 && length < line.Length && line[length] == ' ' ? Encoding.ASCII.GetString(line, 0, length) : "*";
    }
}
