using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using MailAuth.Server.Maildir;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Imap.Parsing;

/// <summary>The limits one command is read under; they change at login, so they are given per command.</summary>
/// <param name="PreLogin">Before login: an overlong line ends the connection, and commands are counted.</param>
/// <param name="MaxLineLength">The longest line.</param>
/// <param name="CommandBudget">
/// The bytes one command may hold in memory, its lines and in-memory literals together, checked as
/// they are read (a literal streamed to a file does not count).
/// </param>
/// <param name="MaxLiteralSize">The largest literal.</param>
/// <param name="MaxCommandsBeforeLogin">Commands (empty lines and refused ones included) allowed before login.</param>
/// <param name="IdleTimeout">The longest wait for the next bytes.</param>
/// <param name="LiteralDirectory">Where literals larger than <see cref="ImapCommandReader.InMemoryLiteralLimit"/> go; null keeps them all in memory.</param>
/// <param name="AppendQuota">
/// Whether an APPEND's literals of so many bytes together fit the mailbox's quota (RFC 9208); asked
/// before a synchronising literal is invited, so that one over the quota is never read. Null: no check.
/// </param>
internal readonly record struct ImapReadLimits(
    bool PreLogin,
    int MaxLineLength,
    long CommandBudget,
    long MaxLiteralSize,
    int MaxCommandsBeforeLogin,
    TimeSpan IdleTimeout,
    string? LiteralDirectory,
    Func<long, CancellationToken, Task<bool>>? AppendQuota = null);

internal enum ImapFrameKind
{
    /// <summary>A complete command, its literals read.</summary>
    Command,

    /// <summary>A command refused while it was read; the rest of it was not read, the session goes on.</summary>
    Refused,

    /// <summary>Nothing to run (an empty line, or an overlong one already answered); read the next.</summary>
    Skipped,

    /// <summary>The session must end: closed, timed out, or a BYE was sent.</summary>
    End,
}

/// <summary>What <see cref="ImapCommandReader.ReadAsync"/> read; a refusal carries the tagged reply for the session to send.</summary>
internal sealed record ImapFrame(ImapFrameKind Kind, ImapCommandText? Command = null, string Tag = "*", ImapStatus Status = ImapStatus.Bad, string Text = "", string? Code = null)
{
    public static readonly ImapFrame Skipped = new(ImapFrameKind.Skipped);

    public static readonly ImapFrame End = new(ImapFrameKind.End);
}

/// <summary>
/// Command framing (RFC 3501 §4.3, RFC 7888): reads one command, its line, and for each literal
/// announced at a line's end, the size check against the limits before a single byte of it is
/// read, "+ Ready" for a synchronising literal, then the bytes (to memory when small, else to a
/// file). Untagged answers (BYE, overlong lines) and continuation requests are written here.
/// </summary>
internal sealed class ImapCommandReader
{
    /// <summary>Literals up to this size are held in memory; larger ones (APPEND messages) go to a file.</summary>
    public const int InMemoryLiteralLimit = 64 * 1024;

    /// <summary>A command with more literals than this is refused: <c>{0}</c> after <c>{0}</c> would never end.</summary>
    private const int MaxLiteralsPerCommand = 32;

    /// <summary>Returned (by reference) for a line that was too long, after the BAD answer.</summary>
    private static readonly byte[] TooLongLine = [];

    /// <summary>Commands (empty lines and refused ones included) read before login, against MaxCommandsBeforeLogin.</summary>
    private int _commandsBeforeLogin;

    /// <summary>The next command, a refusal to answer, a line to skip, or the end of the session.</summary>
    public async Task<ImapFrame> ReadAsync(PipeReader input, PipeWriter output, ImapReadLimits limits, CancellationToken cancellationToken)
    {
        var remaining = limits.CommandBudget;
        var first = await ReadLineAsync(input, output, remaining, limits, cancellationToken);
        if (first is null)
        {
            return ImapFrame.End;
        }
        if (limits.PreLogin && ++_commandsBeforeLogin > limits.MaxCommandsBeforeLogin)
        {
            // Every line that starts a command counts, empty or refused: a flood of them is no cheaper for us.
            Write(output, "* BYE Too many commands before login\r\n");
            await ProtocolConnection.FlushAsync(output, cancellationToken);
            return ImapFrame.End;
        }
        if (first.Length == 0)
        {
            return ImapFrame.Skipped; // Too long (already answered), or an empty line, which is no command.
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
#pragma warning disable CA2000 // the frame owns the command text; the session disposes it after the command
                    return new ImapFrame(ImapFrameKind.Command, new ImapCommandText(parts, starts, literals));
#pragma warning restore CA2000
                }
                var tag = TagOf(first);
                if (marker.Kind == LiteralMarkerKind.Invalid)
                {
                    return Refuse(tag, ImapStatus.Bad, "Invalid literal size: expected {n} or {n+} with n a number");
                }
                var limit = limits.MaxLiteralSize;
                // Small literals that no longer fit the command's memory budget go to a file too (MULTIAPPEND, CATENATE, RFC 3502, 4469);
                // then the literals on disk are held, together, to the largest literal. Before login the budget holds everything.
                var toFile = (marker.Size > InMemoryLiteralLimit || marker.Size > remaining) && limits.LiteralDirectory is not null;
                var together = literals.Sum(l => l.Length) + marker.Size;
                var refusal = marker.Size > limit ? $"Literal of {marker.Size} bytes is larger than the limit of {limit} bytes"
                    : literals.Count >= MaxLiteralsPerCommand ? $"More than {MaxLiteralsPerCommand} literals in one command"
                    : limits.LiteralDirectory is not null && together > limit ? $"The literals of one command are larger than the limit of {limit} bytes together"
                    : !toFile && marker.Size > remaining ? $"Command larger than the limit of {limits.CommandBudget} bytes (lines and literals)"
                    : null;
                if (refusal is not null)
                {
                    if (marker.Kind == LiteralMarkerKind.NonSynchronizing)
                    {
                        // RFC 7888 §4: the client is already sending the bytes; reading them to discard
                        // them would let anyone make us read without bound, so the connection ends.
                        Write(output, "* BYE [TOOBIG] Literal too large, closing the connection\r\n");
                        await ProtocolConnection.FlushAsync(output, cancellationToken);
                        return ImapFrame.End;
                    }
                    return Refuse(tag, ImapStatus.No, refusal, "TOOBIG");
                }
                if (marker.Kind == LiteralMarkerKind.Synchronizing && limits.AppendQuota is not null && IsAppend(first)
                    && !await limits.AppendQuota(together, cancellationToken))
                {
                    return Refuse(tag, ImapStatus.No, "Over the mailbox's storage quota", "OVERQUOTA");
                }
                if (marker.Kind == LiteralMarkerKind.Synchronizing)
                {
                    Write(output, "+ Ready for literal data\r\n");
                    if (!await ProtocolConnection.FlushAsync(output, cancellationToken))
                    {
                        return ImapFrame.End;
                    }
                }
                var literal = await ReadLiteralAsync(input, marker.Size, toFile ? limits.LiteralDirectory : null, limits.IdleTimeout, cancellationToken);
                if (literal is null)
                {
                    return ImapFrame.End;
                }
                literal.Binary = marker.Binary;
                literals.Add(literal);
                starts.Add(marker.Start);
                if (!toFile)
                {
                    remaining -= marker.Size;
                }
                var next = await ReadLineAsync(input, output, remaining, limits, cancellationToken);
                if (next is null)
                {
                    return ImapFrame.End;
                }
                if (ReferenceEquals(next, TooLongLine))
                {
                    // The rest of the command was too long and is gone: the command is dropped.
                    return Refuse(tag, ImapStatus.Bad, "Command line too long, command ignored");
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
    }

    /// <summary>
    /// A line answering a continuation request within a command (AUTHENTICATE, RFC 3501 §6.2.2), or
    /// null when the session must end. It is held to the command budget; before login a longer one
    /// ends the connection with BYE.
    /// </summary>
    public async Task<byte[]?> ReadContinuationLineAsync(PipeReader input, PipeWriter output, ImapReadLimits limits, CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(input, output, limits.CommandBudget, limits, cancellationToken);
        return ReferenceEquals(line, TooLongLine) ? null : line;
    }

    /// <summary>Whether the command line starts "tag APPEND " (any case).</summary>
    private static bool IsAppend(byte[] line)
    {
        var space = Array.IndexOf(line, (byte)' ');
        const string Verb = "APPEND ";
        return space > 0 && line.Length > space + Verb.Length
            && Encoding.ASCII.GetString(line, space + 1, Verb.Length).Equals(Verb, StringComparison.OrdinalIgnoreCase);
    }

    private static ImapFrame Refuse(string tag, ImapStatus status, string text, string? code = null) =>
        new(ImapFrameKind.Refused, Tag: tag, Status: status, Text: text, Code: code);

    /// <summary>
    /// One line of at most <paramref name="remaining"/> bytes (and MaxLineLength); null when the
    /// session must end. After login a longer line is read to its end, answered and skipped; before
    /// login it ends the connection, and no more of it is read.
    /// </summary>
    private static async Task<byte[]?> ReadLineAsync(PipeReader input, PipeWriter output, long remaining, ImapReadLimits limits, CancellationToken cancellationToken)
    {
        var limit = (int)Math.Min(limits.MaxLineLength, remaining);
        var result = await ProtocolConnection.ReadLineAsync(
            input, limit, limits.IdleTimeout, limits.PreLogin ? OverlongLine.Stop : OverlongLine.Discard, cancellationToken);
        switch (result.Status)
        {
            case LineStatus.Line:
                return result.Line;
            case LineStatus.TooLong when limits.PreLogin:
                Write(output, "* BYE Command too long before login, closing the connection\r\n");
                await ProtocolConnection.FlushAsync(output, cancellationToken);
                return null;
            case LineStatus.TooLong:
                // The line was discarded up to its end; the session goes on with the next one.
                Write(output, $"* BAD Command line too long (the limit is {limit} bytes), ignored\r\n");
                return await ProtocolConnection.FlushAsync(output, cancellationToken) ? TooLongLine : null;
            case LineStatus.TimedOut:
                Write(output, "* BYE Idle timeout, closing the connection\r\n");
                await ProtocolConnection.FlushAsync(output, cancellationToken);
                return null;
            default:
                return null;
        }
    }

    /// <summary>The literal's bytes, in memory, or in a new file in <paramref name="directory"/> when one is given; null when the client went away first.</summary>
    private static async Task<ImapLiteral?> ReadLiteralAsync(PipeReader input, long size, string? directory, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        if (directory is null)
        {
            var buffer = new MemoryStream((int)size);
            return await ProtocolConnection.CopyExactlyAsync(input, size, buffer, idleTimeout, cancellationToken)
                ? ImapLiteral.InMemory(buffer.ToArray())
                : null;
        }
        var path = Path.Combine(directory, $"imap-literal-{Guid.NewGuid():N}");
        var complete = false;
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                if (!await ProtocolConnection.CopyExactlyAsync(input, size, file, idleTimeout, cancellationToken))
                {
                    return null;
                }
                DurableFile.FlushToDisk(file);
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

    private static void Write(PipeWriter output, string text) => output.Write(Encoding.UTF8.GetBytes(text));

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
