using System.Buffers;
using System.IO.Pipelines;

namespace MailAuth.Server.Protocol;

internal enum LineStatus
{
    Line,

    /// <summary>
    /// The line exceeded the limit. With <see cref="OverlongLine.Discard"/> it was read and dropped up
    /// to and including its LF; with <see cref="OverlongLine.Stop"/> nothing more of it was read.
    /// </summary>
    TooLong,

    /// <summary>The peer closed the connection (a partial last line is dropped).</summary>
    Closed,

    /// <summary>No complete line arrived within the idle timeout (slow or silent client).</summary>
    TimedOut,
}

internal readonly record struct LineResult(LineStatus Status, byte[] Line);

/// <summary>What the reader does with a line over the limit.</summary>
internal enum OverlongLine
{
    /// <summary>Reads on to the line's LF, dropping the bytes, so that the session can go on with the next line.</summary>
    Discard,

    /// <summary>Reads no further: the caller ends the connection (before login, a client gets no more of our time).</summary>
    Stop,
}

/// <summary>
/// Reads CRLF (or bare LF) terminated lines from a pipe, searching for the LF only within the
/// first <c>maxLength</c> bytes, so that a client can never make the server buffer more than one
/// maximal line, however long it keeps sending.
/// </summary>
internal static class LineReader
{
    public static ValueTask<LineResult> ReadLineAsync(PipeReader input, int maxLength, CancellationToken cancellationToken) =>
        ReadLineAsync(input, maxLength, OverlongLine.Discard, cancellationToken);

    public static async ValueTask<LineResult> ReadLineAsync(PipeReader input, int maxLength, OverlongLine overlong, CancellationToken cancellationToken)
    {
        var discarding = false;
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (!discarding)
            {
                // +2: room for the CRLF of a line of exactly maxLength bytes.
                var window = buffer.Length > maxLength + 2 ? buffer.Slice(0, maxLength + 2) : buffer;
                if (window.PositionOf((byte)'\n') is { } end)
                {
                    var lineWithTerminator = buffer.Slice(0, buffer.GetPosition(1, end));
                    var line = TrimTerminator(lineWithTerminator);
                    var result = line.Length > maxLength
                        ? new LineResult(LineStatus.TooLong, [])
                        : new LineResult(LineStatus.Line, line.ToArray());
                    input.AdvanceTo(lineWithTerminator.End);
                    return result;
                }
                if (buffer.Length <= maxLength + 2)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (read.IsCompleted || read.IsCanceled)
                    {
                        return new LineResult(LineStatus.Closed, []);
                    }
                    continue;
                }
                if (overlong == OverlongLine.Stop)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                    return new LineResult(LineStatus.TooLong, []);
                }
                discarding = true;
            }

            // Too long: drop everything up to and including the LF that ends this line.
            if (buffer.PositionOf((byte)'\n') is { } lineEnd)
            {
                input.AdvanceTo(buffer.GetPosition(1, lineEnd));
                return new LineResult(LineStatus.TooLong, []);
            }
            input.AdvanceTo(buffer.End);
            if (read.IsCompleted || read.IsCanceled)
            {
                return new LineResult(LineStatus.TooLong, []);
            }
        }
    }

    /// <summary>
    /// Copies exactly <paramref name="count"/> bytes (an IMAP literal, say) to
    /// <paramref name="destination"/> as they arrive; false when the peer closed first.
    /// </summary>
    public static async ValueTask<bool> CopyExactlyAsync(
        PipeReader input, long count, Stream destination, CancellationToken cancellationToken, Action? beforeEachRead = null)
    {
        var remaining = count;
        while (remaining > 0)
        {
            beforeEachRead?.Invoke();
            var read = await input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
            foreach (var segment in take)
            {
                await destination.WriteAsync(segment, cancellationToken);
            }
            remaining -= take.Length;
            input.AdvanceTo(take.End);
            if (remaining > 0 && (read.IsCompleted || read.IsCanceled))
            {
                return false;
            }
        }
        return true;
    }

    private static ReadOnlySequence<byte> TrimTerminator(ReadOnlySequence<byte> line)
    {
        var length = line.Length - 1; // the LF
        if (length > 0 && line.Slice(length - 1, 1).FirstSpan[0] == (byte)'\r')
        {
            length--;
        }
        return line.Slice(0, length);
    }
}
