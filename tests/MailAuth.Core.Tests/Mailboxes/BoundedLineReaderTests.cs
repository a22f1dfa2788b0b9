using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Tests.Mailboxes;

[TestFixture]
public sealed class BoundedLineReaderTests
{
    private const int Limit = 8;

    /// <summary>
    /// Every case is read whole, then through readers that hand out 1, 2 and 3 characters per call,
    /// so that a CR, an LF or the limit falls on every possible chunk boundary.
    /// </summary>
    private static readonly int[] ChunkSizes = [int.MaxValue, 1, 2, 3];

    // Expected lines: null stands for a line refused as longer than the limit.
    private static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("LF", "abc\ndef\n", "abc", "def");
        yield return Case("CRLF", "abc\r\ndef\r\n", "abc", "def");
        yield return Case("mixed endings", "a\r\nb\nc\r\n", "a", "b", "c");
        yield return Case("no trailing newline", "abc\ndef", "abc", "def");
        yield return Case("no trailing newline after CRLF lines", "abc\r\ndef", "abc", "def");
        yield return Case("empty input", "");
        yield return Case("one empty line", "\n", "");
        yield return Case("one empty CRLF line", "\r\n", "");
        yield return Case("empty lines between", "a\n\n\r\n\nb\n", "a", "", "", "", "b");
        yield return Case("a lone CR is part of the line", "a\rb\n", "a\rb");
        yield return Case("exactly at the limit, LF", "12345678\nx\n", "12345678", "x");
        yield return Case("exactly at the limit, CRLF", "12345678\r\nx\r\n", "12345678", "x");
        yield return Case("exactly at the limit, at the end", "12345678", "12345678");
        yield return Case("exactly at the limit, CR at the end", "12345678\r", "12345678");
        yield return Case("one over, LF", "123456789\nx\n", null, "x");
        yield return Case("one over, CRLF", "123456789\r\nx\r\n", null, "x");
        yield return Case("one over, at the end", "123456789", [null]);
        yield return Case("one over, CR at the end", "123456789\r", [null]);
        yield return Case("two over-long lines in a row", "123456789\n1234567890\nok\n", null, null, "ok");
        yield return Case("huge line, then a normal one", new string('x', 200_000) + "\nnext\n", null, "next");
        yield return Case("huge CRLF line, then a normal one", new string('x', 200_000) + "\r\nnext\r\n", null, "next");
        yield return Case("huge line at the end", "first\n" + new string('x', 200_000), "first", null);
        yield return Case("huge line of CRs", new string('\r', 100_000) + "\nnext", null, "next");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task ReadsLinesWithinTheLimit(string input, string?[] expected)
    {
        foreach (var chunkSize in ChunkSizes)
        {
            Assert.That(await ReadAllAsync(new ChunkedReader(input, chunkSize)), Is.EqualTo(expected), $"{chunkSize} character(s) per read");
        }
    }

    [Test]
    public async Task ReturnsNullAgainOnceTheInputIsExhausted()
    {
        var reader = new BoundedLineReader(new ChunkedReader("abc", 1), Limit);
        Assert.That(await reader.ReadLineAsync(default), Is.EqualTo(new BoundedLine("abc")));
        Assert.That(await reader.ReadLineAsync(default), Is.Null);
        Assert.That(await reader.ReadLineAsync(default), Is.Null);
    }

    [Test]
    public void HonoursCancellation()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var reader = new BoundedLineReader(new ChunkedReader("abc\n", 1), Limit);
        Assert.That(async () => await reader.ReadLineAsync(cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    private static TestCaseData Case(string name, string input, params string?[] expected) =>
        new TestCaseData(input, expected).SetArgDisplayNames(name);

    private static async Task<List<string?>> ReadAllAsync(TextReader input)
    {
        var reader = new BoundedLineReader(input, Limit);
        var lines = new List<string?>();
        while (await reader.ReadLineAsync(default) is { } line)
        {
            lines.Add(line.Text);
        }
        return lines;
    }

    /// <summary>Hands out at most <paramref name="chunkSize"/> characters per read, like a pipe or a slow disk.</summary>
    private sealed class ChunkedReader(string text, int chunkSize) : TextReader
    {
        private int _position;

        public override int Peek() => _position < text.Length ? text[_position] : -1;

        public override int Read() => _position < text.Length ? text[_position++] : -1;

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            var count = Math.Min(Math.Min(buffer.Length, chunkSize), text.Length - _position);
            text.AsSpan(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) =>
            cancellationToken.IsCancellationRequested
                ? ValueTask.FromCanceled<int>(cancellationToken)
                : ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(char[] buffer, int index, int count) =>
            ReadAsync(buffer.AsMemory(index, count)).AsTask();
    }
}
