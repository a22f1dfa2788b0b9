using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace MailAuth.Server.Smtp;

internal enum DataReadStatus
{
    /// <summary>The terminating CRLF.CRLF arrived and the whole message was written.</summary>
    Complete,

    /// <summary>The terminator arrived, but the message was larger than allowed; the excess was discarded.</summary>
    TooLarge,

    /// <summary>The terminator arrived, but writing the message failed (disk full, I/O error).</summary>
    StorageFailed,

    /// <summary>The client closed the connection or stopped sending before the terminator.</summary>
    Disconnected,

    TimedOut,
}

internal readonly record struct DataReadResult(DataReadStatus Status, long Size);

/// <summary>
/// Reads the DATA part of a transaction (RFC 5321 §4.1.1.4, §4.5.2) straight from the connection's
/// pipe into a stream, a buffer at a time, without a line length limit and without ever holding
/// the message in memory.
/// <list type="bullet">
/// <item>The end is CRLF "." CRLF only, found across reads. A bare LF never ends or starts a line
/// for this purpose (the "SMTP smuggling" class of attacks relies on servers that disagree on it).</item>
/// <item>A line starting with "." loses that dot (transparency).</item>
/// <item>A bare LF and a bare CR are each stored as CRLF, so that what is stored and relayed
/// always has RFC 5322 line ends (RFC 5321 §2.3.8: CR and LF only ever come as a pair). Neither
/// ends the data or starts a line: <c>\r.\r</c> is text, stored as <c>CRLF "." CRLF</c>, which the
/// relay client dot-stuffs like any other line.</item>
/// </list>
/// </summary>
internal sealed class SmtpDataReader
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>The most one input byte can emit: after a bare CR, "x" gives CR LF x.</summary>
    private const int MaxEmittedPerByte = 3;

    private enum Position
    {
        LineStart,
        InLine,
        AfterCr,
        DotAtLineStart,
        DotThenCr,
    }

    private readonly Stream _destination;
    private readonly long _maxSize;
    private readonly byte[] _chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
    private int _chunkLength;
    private long _size;
    private bool _tooLarge;
    private bool _storageFailed;
    private Position _position = Position.LineStart;

    private SmtpDataReader(Stream destination, long maxSize)
    {
        _destination = destination;
        _maxSize = maxSize;
    }

    /// <summary>
    /// Reads up to and including the terminator; on success the pipe is left just after it, so
    /// that pipelined commands that follow are read as commands.
    /// </summary>
    public static async Task<DataReadResult> ReadAsync(
        PipeReader input, Stream destination, long maxSize, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        var reader = new SmtpDataReader(destination, maxSize);
        try
        {
            return await reader.RunAsync(input, idleTimeout, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(reader._chunk);
        }
    }

    private async Task<DataReadResult> RunAsync(PipeReader input, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            ReadResult read;
            try
            {
                // The idle deadline restarts with every read: a slow but steady client is fine.
                deadline.CancelAfter(idleTimeout);
                read = await input.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new DataReadResult(DataReadStatus.TimedOut, _size);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return new DataReadResult(DataReadStatus.Disconnected, _size);
            }

            var buffer = read.Buffer;
            var consumed = 0L;
            var ended = false;
            foreach (var segment in buffer)
            {
                var offset = 0;
                while (offset < segment.Length && !ended)
                {
                    var used = Scan(segment.Span[offset..], out ended);
                    offset += used;
                    consumed += used;
                    await FlushChunkIfFullAsync(cancellationToken);
                }
                if (ended)
                {
                    break;
                }
            }
            input.AdvanceTo(buffer.GetPosition(consumed));
            if (ended)
            {
                await FlushChunkAsync(cancellationToken);
                var status = _storageFailed ? DataReadStatus.StorageFailed
                    : _tooLarge ? DataReadStatus.TooLarge
                    : DataReadStatus.Complete;
                return new DataReadResult(status, _size);
            }
            await FlushChunkAsync(cancellationToken);
            if (read.IsCompleted || read.IsCanceled)
            {
                return new DataReadResult(DataReadStatus.Disconnected, _size);
            }
        }
    }

    /// <summary>Runs the byte automaton over <paramref name="bytes"/>; returns how many were used (all, or up to the terminator's LF).</summary>
    private int Scan(ReadOnlySpan<byte> bytes, out bool ended)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            switch (_position)
            {
                case Position.LineStart:
                    if (b == (byte)'.')
                    {
                        _position = Position.DotAtLineStart;
                        continue;
                    }
                    InLine(b);
                    break;
                case Position.InLine:
                    InLine(b);
                    break;
                case Position.AfterCr:
                    if (b == (byte)'\n')
                    {
                        Emit((byte)'\r');
                        Emit((byte)'\n');
                        _position = Position.LineStart;
                    }
                    else
                    {
                        BareLineEnd();
                        InLine(b);
                    }
                    break;
                case Position.DotAtLineStart:
                    if (b == (byte)'\r')
                    {
                        _position = Position.DotThenCr;
                        continue;
                    }
                    InLine(b); // the leading dot is dropped
                    break;
                case Position.DotThenCr:
                    if (b == (byte)'\n')
                    {
                        ended = true;
                        return i + 1;
                    }
                    BareLineEnd(); // "." CR x: the dot is dropped, the bare CR stored as CRLF
                    InLine(b);
                    break;
            }
            if (_chunkLength >= ChunkSize - MaxEmittedPerByte)
            {
                // Hand back to the caller to write the chunk before the next byte could overflow it.
                ended = false;
                return i + 1;
            }
        }
        ended = false;
        return bytes.Length;
    }

    private void InLine(byte b)
    {
        switch (b)
        {
            case (byte)'\r':
                _position = Position.AfterCr;
                return;
            case (byte)'\n':
                BareLineEnd();
                return;
            default:
                Emit(b);
                _position = Position.InLine;
                return;
        }
    }

    /// <summary>A bare LF or CR: stored as CRLF, but it does not start a line (see the class comment).</summary>
    private void BareLineEnd()
    {
        Emit((byte)'\r');
        Emit((byte)'\n');
        _position = Position.InLine;
    }

    private void Emit(byte b)
    {
        _size++;
        if (_size > _maxSize)
        {
            _tooLarge = true;
        }
        if (_tooLarge || _storageFailed)
        {
            return; // keep reading to the terminator, store nothing more
        }
        _chunk[_chunkLength++] = b;
    }

    private async ValueTask FlushChunkIfFullAsync(CancellationToken cancellationToken)
    {
        if (_chunkLength >= ChunkSize - MaxEmittedPerByte)
        {
            await FlushChunkAsync(cancellationToken);
        }
    }

    private async ValueTask FlushChunkAsync(CancellationToken cancellationToken)
    {
        if (_chunkLength == 0)
        {
            return;
        }
        try
        {
            if (!_storageFailed && !_tooLarge)
            {
                await _destination.WriteAsync(_chunk.AsMemory(0, _chunkLength), cancellationToken);
            }
        }
        catch (IOException)
        {
            _storageFailed = true;
        }
        _chunkLength = 0;
    }
}
