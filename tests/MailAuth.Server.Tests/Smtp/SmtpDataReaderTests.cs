using System.IO.Pipelines;
using System.Text;
using MailAuth.Server.Smtp;

namespace MailAuth.Server.Tests.Smtp;

[TestFixture]
public sealed class SmtpDataReaderTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(5);

    [TestCase("Subject: a\r\n\r\nbody\r\n.\r\n", "Subject: a\r\n\r\nbody\r\n")]
    [TestCase(".\r\n", "")]
    [TestCase("..leading dot\r\n.\r\n", ".leading dot\r\n")]
    [TestCase("a\r\n...\r\n..\r\n.\r\n", "a\r\n..\r\n.\r\n")]
    [TestCase("a.\r\n.b\r\n.\r\n", "a.\r\nb\r\n")] // a single leading dot is dropped too (RFC 5321 §4.5.2)
    [TestCase("h\u00e9llo 8-bit \u2713\r\n.\r\n", "h\u00e9llo 8-bit \u2713\r\n")]
    [TestCase("bare\nlf\r\n.\r\n", "bare\r\nlf\r\n")] // bare LF stored as CRLF
    [TestCase("bare\rcr\r\n.\r\n", "bare\r\ncr\r\n")] // bare CR stored as CRLF
    [TestCase("cr at end\r\r\n.\r\n", "cr at end\r\n\r\n")]
    [TestCase("a\r.\rMAIL FROM:<x@y>\r\n.\r\n", "a\r\n.\r\nMAIL FROM:<x@y>\r\n")] // CR.CR never ends DATA
    [TestCase("a\r\n.\r.\r\n.\r\n", "a\r\n\r\n.\r\n")]
    [TestCase("\r\r\r\n.\r\n", "\r\n\r\n\r\n")]
    [TestCase("smuggle\n.\nstill data\r\n.\r\n", "smuggle\r\n.\r\nstill data\r\n")] // LF.LF never ends DATA
    [TestCase("smuggle\r\n.\nstill data\r\n.\r\n", "smuggle\r\n\r\nstill data\r\n")]
    [TestCase("x\r\n.\rstill data\r\n.\r\n", "x\r\n\r\nstill data\r\n")]
    public async Task UnstuffsAndFindsTheEnd(string wire, string stored)
    {
        foreach (var chunk in new[] { 1, 2, 3, 7, wire.Length })
        {
            var (result, bytes, rest) = await ReadAsync(Encoding.UTF8.GetBytes(wire + "QUIT\r\n"), chunk, maxSize: 1000);
            Assert.That(result.Status, Is.EqualTo(DataReadStatus.Complete), $"chunk {chunk}");
            Assert.That(Encoding.UTF8.GetString(bytes), Is.EqualTo(stored), $"chunk {chunk}");
            Assert.That(result.Size, Is.EqualTo(Encoding.UTF8.GetByteCount(stored)), $"chunk {chunk}");
            Assert.That(Encoding.ASCII.GetString(rest), Is.EqualTo("QUIT\r\n"), $"pipelined input after DATA stays for the session, chunk {chunk}");
        }
    }

    [Test]
    public async Task DiscardsAnOversizeMessageUpToTheTerminator()
    {
        var wire = "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat("0123456789\r\n", 100)) + ".\r\nNOOP\r\n";
        var (result, bytes, rest) = await ReadAsync(Encoding.ASCII.GetBytes(wire), chunkSize: 100, maxSize: 500);
        Assert.That(result.Status, Is.EqualTo(DataReadStatus.TooLarge));
        Assert.That(bytes, Has.Length.LessThanOrEqualTo(500));
        Assert.That(Encoding.ASCII.GetString(rest), Is.EqualTo("NOOP\r\n"));
    }

    [Test]
    public async Task CopiesALargeMessageExactly()
    {
        // Larger than the reader's 64 KiB chunk, with dots at line starts on both sides of chunk edges.
        var line = ".abcdefghijklmnopqrstuvwxyz0123456789\r\n";
        var stored = string.Concat(Enumerable.Repeat(line, 10_000));
        var wire = stored.Replace("\r\n.", "\r\n..", StringComparison.Ordinal);
        wire = "." + wire + ".\r\n";
        var (result, bytes, _) = await ReadAsync(Encoding.ASCII.GetBytes(wire), chunkSize: 8191, maxSize: 10_000_000);
        Assert.That(result.Status, Is.EqualTo(DataReadStatus.Complete));
        Assert.That(Encoding.ASCII.GetString(bytes), Is.EqualTo(stored));
    }

    [TestCase(8191)]
    [TestCase(65536)]
    public async Task StoresBareCrsAsCrLfAcrossBufferEdges(int chunkSize)
    {
        // Bare CRs (each stored as two bytes) and CRLFs split between reads land on both sides of the
        // reader's 64 KiB write buffer: every byte must come out once, in order.
        var wire = string.Concat(Enumerable.Repeat("abc\rdef\r\r\n.x\rg\r\n", 20_000));
        var stored = wire.Replace("\r\n.", "\r\n", StringComparison.Ordinal).Replace("\r\n", "\n", StringComparison.Ordinal)
            .Replace("\r", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        var (result, bytes, _) = await ReadAsync(Encoding.ASCII.GetBytes(wire + ".\r\n"), chunkSize, maxSize: 10_000_000);
        Assert.That(result.Status, Is.EqualTo(DataReadStatus.Complete));
        Assert.That(Encoding.ASCII.GetString(bytes), Is.EqualTo(stored));
        Assert.That(bytes.AsSpan().IndexOf("\r\r"u8), Is.EqualTo(-1));
    }

    [Test]
    public async Task ReportsAClientThatLeavesBeforeTheEnd()
    {
        var (result, _, _) = await ReadAsync("Subject: cut\r\n\r\nbody\r\n."u8.ToArray(), chunkSize: 4, maxSize: 1000);
        Assert.That(result.Status, Is.EqualTo(DataReadStatus.Disconnected));
    }

    [Test]
    public async Task TimesOutOnASilentClient()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("partial"u8.ToArray());
        using var destination = new MemoryStream();
        var result = await SmtpDataReader.ReadAsync(pipe.Reader, destination, 1000, TimeSpan.FromMilliseconds(200), CancellationToken.None);
        Assert.That(result.Status, Is.EqualTo(DataReadStatus.TimedOut));
    }

    [Test]
    public async Task ReportsAFailingDisk()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("Subject: a\r\n\r\nbody\r\n.\r\n"u8.ToArray());
        var result = await SmtpDataReader.ReadAsync(pipe.Reader, new FailingStream(), 1000, Idle, CancellationToken.None);
        Assert.That(result.Status, Is.EqualTo(DataReadStatus.StorageFailed));
    }

    private static async Task<(DataReadResult Result, byte[] Stored, byte[] Remaining)> ReadAsync(byte[] wire, int chunkSize, long maxSize)
    {
        var pipe = new Pipe();
        var writing = Task.Run(async () =>
        {
            for (var offset = 0; offset < wire.Length; offset += chunkSize)
            {
                await pipe.Writer.WriteAsync(wire.AsMemory(offset, Math.Min(chunkSize, wire.Length - offset)));
            }
            await pipe.Writer.CompleteAsync();
        });
        using var destination = new MemoryStream();
        var result = await SmtpDataReader.ReadAsync(pipe.Reader, destination, maxSize, Idle, CancellationToken.None);
        await writing;
        var rest = new MemoryStream();
        while (true)
        {
            var read = await pipe.Reader.ReadAsync();
            foreach (var segment in read.Buffer)
            {
                rest.Write(segment.Span);
            }
            pipe.Reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }
        return (result, destination.ToArray(), rest.ToArray());
    }

    private sealed class FailingStream : MemoryStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("No space left on device"));
    }
}
