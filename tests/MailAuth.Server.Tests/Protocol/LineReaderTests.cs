using System.IO.Pipelines;
using System.Text;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Tests.Protocol;

[TestFixture]
public sealed class LineReaderTests
{
    private const int Max = 16;

    [TestCase("a1 NOOP\r\n", "a1 NOOP")]
    [TestCase("bare lf\n", "bare lf")]
    [TestCase("\r\n", "")]
    [TestCase("exactly16bytes!!\r\n", "exactly16bytes!!")]
    [TestCase("exactly16bytes!!\n", "exactly16bytes!!")]
    [TestCase("inner\rcr\r\n", "inner\rcr")]
    public async Task ReadsOneLine(string input, string expected)
    {
        var lines = await ReadAllAsync(input, chunkSize: input.Length);
        Assert.That(lines, Is.EqualTo(new[] { "Line:" + expected, "Closed:" }));
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(7)]
    [TestCase(64)]
    public async Task LongLinesAreDiscardedAndTheNextLineSurvivesWhateverTheChunking(int chunkSize)
    {
        var input = "ok\r\n" + new string('x', 100) + "\r\nnext\r\n" + new string('y', 17) + "\r\n" + new string('z', 16) + "\r\nlast\r\n";
        var lines = await ReadAllAsync(input, chunkSize);
        Assert.That(lines, Is.EqualTo(new[] { "Line:ok", "TooLong:", "Line:next", "TooLong:", "Line:" + new string('z', 16), "Line:last", "Closed:" }));
    }

    [Test]
    public async Task UnterminatedInputAtCloseIsDropped()
    {
        Assert.That(await ReadAllAsync("a1 NOOP\r\npartial", 4), Is.EqualTo(new[] { "Line:a1 NOOP", "Closed:" }));
        Assert.That(await ReadAllAsync(new string('x', 40), 4), Is.EqualTo(new[] { "TooLong:", "Closed:" }));
    }

    [Test]
    public async Task NeverHoldsMuchMoreThanOneLineWhileDiscarding()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32, minimumSegmentSize: 16, useSynchronizationContext: false));
        var writer = Task.Run(async () =>
        {
            // 1 MiB without a newline: the writer only finishes if the reader keeps discarding.
            var chunk = Encoding.ASCII.GetBytes(new string('x', 32));
            for (var i = 0; i < 32 * 1024; i++)
            {
                await pipe.Writer.WriteAsync(chunk);
            }
            await pipe.Writer.WriteAsync("\r\nafter\r\n"u8.ToArray());
            await pipe.Writer.CompleteAsync();
        });
        var first = await LineReader.ReadLineAsync(pipe.Reader, Max, default);
        var second = await LineReader.ReadLineAsync(pipe.Reader, Max, default);
        await writer;
        Assert.That(first.Status, Is.EqualTo(LineStatus.TooLong));
        Assert.That(Encoding.ASCII.GetString(second.Line), Is.EqualTo("after"));
    }

    [Test]
    public async Task StopModeReadsNothingBeyondTheLimit()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32, minimumSegmentSize: 16, useSynchronizationContext: false));
        var chunk = Encoding.ASCII.GetBytes(new string('x', 32));
        var written = 0;
        var writer = Task.Run(async () =>
        {
            // 1 MiB without a newline: it can only all be written if the reader keeps reading.
            for (var i = 0; i < 32 * 1024; i++)
            {
                if ((await pipe.Writer.WriteAsync(chunk)).IsCompleted)
                {
                    return;
                }
                Interlocked.Add(ref written, chunk.Length);
            }
        });
        var result = await LineReader.ReadLineAsync(pipe.Reader, Max, OverlongLine.Stop, default);
        Assert.That(result.Status, Is.EqualTo(LineStatus.TooLong));
        Assert.That(writer.IsCompleted, Is.False, "the rest of the line is left unread");
        Assert.That(Volatile.Read(ref written), Is.LessThan(1024), "the writer is held back: nothing was read past the limit and the pipe's threshold");
        await pipe.Reader.CompleteAsync();
        await writer;
    }

    [TestCase("exactly16bytes!!\r\nnext\r\n", "Line:exactly16bytes!!")]
    [TestCase("seventeen bytes!!\r\nnext\r\n", "TooLong:")]
    public async Task StopModeStillReadsLinesWithinTheLimit(string input, string expected)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(input));
        var result = await LineReader.ReadLineAsync(pipe.Reader, Max, OverlongLine.Stop, default);
        Assert.That($"{result.Status}:{Encoding.ASCII.GetString(result.Line)}", Is.EqualTo(expected));
    }

    [Test]
    public async Task CopyExactlyTakesTheAnnouncedBytesAndLeavesTheRest()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("0123456789tail\r\n"u8.ToArray());
        await pipe.Writer.CompleteAsync();
        using var destination = new MemoryStream();
        Assert.That(await LineReader.CopyExactlyAsync(pipe.Reader, 10, destination, default), Is.True);
        Assert.That(Encoding.ASCII.GetString(destination.ToArray()), Is.EqualTo("0123456789"));
        var rest = await LineReader.ReadLineAsync(pipe.Reader, Max, default);
        Assert.That(Encoding.ASCII.GetString(rest.Line), Is.EqualTo("tail"));
    }

    [Test]
    public async Task CopyExactlyReportsAnEarlyClose()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("short"u8.ToArray());
        await pipe.Writer.CompleteAsync();
        using var destination = new MemoryStream();
        Assert.That(await LineReader.CopyExactlyAsync(pipe.Reader, 10, destination, default), Is.False);
    }

    /// <summary>Feeds <paramref name="input"/> in chunks of <paramref name="chunkSize"/> bytes and reads lines until Closed.</summary>
    private static async Task<List<string>> ReadAllAsync(string input, int chunkSize)
    {
        var pipe = new Pipe();
        var bytes = Encoding.UTF8.GetBytes(input);
        var writer = Task.Run(async () =>
        {
            for (var offset = 0; offset < bytes.Length; offset += chunkSize)
            {
                await pipe.Writer.WriteAsync(bytes.AsMemory(offset, Math.Min(chunkSize, bytes.Length - offset)));
                await Task.Yield();
            }
            await pipe.Writer.CompleteAsync();
        });
        var lines = new List<string>();
        LineResult result;
        do
        {
            result = await LineReader.ReadLineAsync(pipe.Reader, Max, default);
            lines.Add($"{result.Status}:{Encoding.UTF8.GetString(result.Line)}");
        }
        while (result.Status != LineStatus.Closed && lines.Count < 20);
        await writer;
        return lines;
    }
}
