using System.Text;
using MailAuth.Server.Imap.Parsing;
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

    /// <summary>
    /// The bytes one command may hold in memory, its lines and in-memory literals together, checked
    /// as they are read. Before login this is the small pre-login budget, and it is also the longest
    /// line; after login, the larger of a maximal line and the in-memory literal limit (a literal
    /// streamed to a file does not count).
    /// </summary>
    private long CommandBudget => State == ImapState.NotAuthenticated
        ? Options.MaxCommandBytesBeforeLogin
        : Math.Max(InMemoryLiteralLimit, Options.MaxLineLength);

    /// <summary>Commands (empty lines and refused ones included) read before login, against MaxCommandsBeforeLogin.</summary>
    private int _commandsBeforeLogin;

    /// <summary>The next complete command, or null when the session must end (closed, timed out, BYE sent).</summary>
    private async Task<ImapCommandText?> ReadCommandAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var remaining = CommandBudget;
            var first = await ReadLineAsync(remaining, cancellationToken);
            if (first is null)
            {
                return null;
            }
            if (State == ImapState.NotAuthenticated && ++_commandsBeforeLogin > Options.MaxCommandsBeforeLogin)
            {
                // Every line that starts a command counts, empty or refused: a flood of them is no cheaper for us.
                Write("* BYE Too many commands before login\r\n");
                await Connection.FlushAsync(cancellationToken);
                return null;
            }
            if (first.Length == 0)
            {
                continue; // Too long (already answered), or an empty line, which is no command.
            }
            remaining -= first.Length;
            var parts = new List<byte[]> { first };
            var starts = new List<int>();
            var literals = new List<ImapLiteral>();
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
                    var refusal = marker.Size > limit ? $"Literal of {marker.Size} bytes is larger than the limit of {limit} bytes"
                        : literals.Count >= MaxLiteralsPerCommand ? $"More than {MaxLiteralsPerCommand} literals in one command"
                        : toFile && literals.Any(l => l.FilePath is not null) ? "Only one large literal per command"
                        : !toFile && marker.Size > remaining ? $"Command larger than the limit of {CommandBudget} bytes (lines and literals)"
                        : null;
                    if (refusal is not null)
                    {
                        if (marker.Kind == LiteralMarkerKind.NonSynchronizing)
                        {
                            // RFC 7888 §4: the client is already sending the bytes; reading them to discard
                            // them would let anyone make us read without bound, so the connection ends.
                            Write("* BYE [TOOBIG] Literal too large, closing the connection\r\n");
                            await Connection.FlushAsync(cancellationToken);
                            return null;
                        }
                        Write($"{tag} NO [TOOBIG] {refusal}\r\n");
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
                        remaining -= marker.Size;
                    }
                    var next = await ReadLineAsync(remaining, cancellationToken);
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
                    remaining -= next.Length;
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

    /// <summary>
    /// One line of at most <paramref name="remaining"/> bytes (and MaxLineLength); null when the
    /// session must end. After login a longer line is read to its end, answered and skipped; before
    /// login it ends the connection, and no more of it is read.
    /// </summary>
    private async Task<byte[]?> ReadLineAsync(long remaining, CancellationToken cancellationToken)
    {
        var limit = (int)Math.Min(Options.MaxLineLength, remaining);
        var preLogin = State == ImapState.NotAuthenticated;
        var result = await Connection.ReadLineAsync(limit, IdleTimeout, preLogin ? OverlongLine.Stop : OverlongLine.Discard, cancellationToken);
        switch (result.Status)
        {
            case LineStatus.Line:
                return result.Line;
            case LineStatus.TooLong when preLogin:
                Write("* BYE Command too long before login, closing the connection\r\n");
                await Connection.FlushAsync(cancellationToken);
                return null;
            case LineStatus.TooLong:
                // The line was discarded up to its end; the session goes on with the next one.
                Write($"* BAD Command line too long (the limit is {limit} bytes), ignored\r\n");
                return await Connection.FlushAsync(cancellationToken) ? TooLongLine : null;
            case LineStatus.TimedOut:
                Write("* BYE Idle timeout, closing the connection\r\n");
                await Connection.FlushAsync(cancellationToken);
                return null;
            default:
                return null;
        }
    }

    /// <summary>
    /// A line answering a continuation request within a command (AUTHENTICATE, RFC 3501 §6.2.2), or
    /// null when the session must end. Before login it is held to the pre-login budget and a longer
    /// one ends the connection with BYE.
    /// </summary>
    public async Task<byte[]?> ReadContinuationLineAsync(CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(CommandBudget, cancellationToken);
        if (ReferenceEquals(line, TooLongLine))
        {
            return null;
        }
        return line;
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
