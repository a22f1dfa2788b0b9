using System.IO.Pipelines;
using System.Text;
using MailAuth.Server.Imap;
using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Tests.Imap.Parsing;

/// <summary>Command framing against an in-memory pipe: what is read, what is answered, and when reading stops.</summary>
[TestFixture]
public sealed class ImapCommandReaderTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static readonly ImapReadLimits AfterLogin = new(
        PreLogin: false, MaxLineLength: 100, CommandBudget: 64 * 1024, MaxLiteralSize: 1000,
        MaxCommandsBeforeLogin: 3, IdleTimeout: Wait, LiteralDirectory: null);

    private static readonly ImapReadLimits BeforeLogin = new(
        PreLogin: true, MaxLineLength: 1000, CommandBudget: 200, MaxLiteralSize: 100,
        MaxCommandsBeforeLogin: 3, IdleTimeout: Wait, LiteralDirectory: null);

    private Pipe _input = null!;
    private Pipe _output = null!;
    private ImapCommandReader _reader = null!;

    [SetUp]
    public void SetUp()
    {
        _input = new Pipe();
        _output = new Pipe();
        _reader = new ImapCommandReader();
    }

    [Test]
    public async Task ASynchronizingLiteralIsReadAfterTheContinuationRequest()
    {
        await Send("a1 LOGIN {5}\r\n");
        var read = Read(AfterLogin);
        Assert.That(await NextOutput(), Is.EqualTo("+ Ready for literal data\r\n"));
        Assert.That(read.IsCompleted, Is.False, "the literal has not been sent yet");
        await Send("alice secret\r\n");
        using var command = (await read.WaitAsync(Wait)).Command!;
        Assert.That(Words(command), Is.EqualTo(new[] { "a1", "LOGIN", "alice", "secret" }));
    }

    [Test]
    public async Task NonSynchronizingLiteralsAreReadWithoutAContinuationRequest()
    {
        await Send("a1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n");
        var frame = await Read(AfterLogin).WaitAsync(Wait);
        using var command = frame.Command!;
        Assert.Multiple(() =>
        {
            Assert.That(frame.Kind, Is.EqualTo(ImapFrameKind.Command));
            Assert.That(Words(command), Is.EqualTo(new[] { "a1", "LOGIN", "alice", "secret" }));
            Assert.That(Output(), Is.Empty);
        });
    }

    [Test]
    public async Task AnOverlongLineAfterLoginIsAnsweredAndSkipped()
    {
        await Send(new string('x', 150) + "\r\na2 NOOP\r\n");
        var skipped = await Read(AfterLogin).WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(skipped.Kind, Is.EqualTo(ImapFrameKind.Skipped));
            Assert.That(Output(), Is.EqualTo("* BAD Command line too long (the limit is 100 bytes), ignored\r\n"));
        });
        using var next = (await Read(AfterLogin).WaitAsync(Wait)).Command!;
        Assert.That(Words(next), Is.EqualTo(new[] { "a2", "NOOP" }));
    }

    [Test]
    public async Task AnOverlongLineBeforeLoginEndsTheSessionAtTheCommandBudget()
    {
        // No line end at all: the reader stops at the pre-login budget (200), not MaxLineLength (1000).
        await Send(new string('x', 300));
        var frame = await Read(BeforeLogin).WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(frame.Kind, Is.EqualTo(ImapFrameKind.End));
            Assert.That(Output(), Is.EqualTo("* BYE Command too long before login, closing the connection\r\n"));
        });
    }

    [Test]
    public async Task AnOversizedSynchronizingLiteralIsRefusedBeforeAnyOfItIsRead()
    {
        await Send("a3 APPEND INBOX {1001}\r\na4 NOOP\r\n");
        var refused = await Read(AfterLogin).WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(refused.Kind, Is.EqualTo(ImapFrameKind.Refused));
            Assert.That((refused.Tag, refused.Status, refused.Code), Is.EqualTo(("a3", ImapStatus.No, "TOOBIG")));
            Assert.That(refused.Text, Is.EqualTo("Literal of 1001 bytes is larger than the limit of 1000 bytes"));
            Assert.That(Output(), Is.Empty, "no continuation request");
        });
        using var next = (await Read(AfterLogin).WaitAsync(Wait)).Command!;
        Assert.That(Words(next), Is.EqualTo(new[] { "a4", "NOOP" }));
    }

    [Test]
    public async Task AnOversizedNonSynchronizingLiteralEndsTheSession()
    {
        await Send("a3 APPEND INBOX {1001+}\r\n" + new string('x', 1001));
        var frame = await Read(AfterLogin).WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(frame.Kind, Is.EqualTo(ImapFrameKind.End));
            Assert.That(Output(), Is.EqualTo("* BYE [TOOBIG] Literal too large, closing the connection\r\n"));
        });
    }

    [Test]
    public async Task LinesAndLiteralsTogetherAreHeldToThePreLoginBudget()
    {
        // 14 + 95 + 5 bytes read, 86 of the 200 left: a second literal of 95 (under the literal limit of 100) no longer fits.
        await Send("a1 LOGIN {95+}\r\n" + new string('u', 95) + " {95}\r\n");
        var refused = await Read(BeforeLogin).WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(refused.Kind, Is.EqualTo(ImapFrameKind.Refused));
            Assert.That((refused.Tag, refused.Status, refused.Code), Is.EqualTo(("a1", ImapStatus.No, "TOOBIG")));
            Assert.That(refused.Text, Is.EqualTo("Command larger than the limit of 200 bytes (lines and literals)"));
            Assert.That(Output(), Is.Empty);
        });
    }

    [Test]
    public async Task EveryLineBeforeLoginCountsTowardTheCommandLimit()
    {
        await Send("\r\n\r\n\r\n\r\n");
        for (var i = 0; i < 3; i++)
        {
            Assert.That((await Read(BeforeLogin).WaitAsync(Wait)).Kind, Is.EqualTo(ImapFrameKind.Skipped));
        }
        var frame = await Read(BeforeLogin).WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(frame.Kind, Is.EqualTo(ImapFrameKind.End));
            Assert.That(Output(), Is.EqualTo("* BYE Too many commands before login\r\n"));
        });
    }

    [Test]
    public async Task AnInvalidLiteralSizeIsRefusedWithBad()
    {
        await Send("a1 LOGIN {abc}\r\n");
        var refused = await Read(AfterLogin).WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(refused.Kind, Is.EqualTo(ImapFrameKind.Refused));
            Assert.That((refused.Tag, refused.Status, refused.Code), Is.EqualTo(("a1", ImapStatus.Bad, (string?)null)));
            Assert.That(refused.Text, Is.EqualTo("Invalid literal size: expected {n} or {n+} with n a number"));
        });
    }

    [Test]
    public async Task ADisconnectInTheMiddleOfALiteralEndsTheSession()
    {
        await Send("a1 LOGIN {10+}\r\nabc");
        await _input.Writer.CompleteAsync();
        var frame = await Read(AfterLogin).WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(frame.Kind, Is.EqualTo(ImapFrameKind.End));
            Assert.That(Output(), Is.Empty);
        });
    }

    [Test]
    public async Task ALargeLiteralAfterLoginGoesToAFileThatIsRemovedWithTheCommand()
    {
        var directory = Directory.CreateTempSubdirectory("imap-reader-").FullName;
        try
        {
            var limits = AfterLogin with { MaxLiteralSize = 100_000, LiteralDirectory = directory };
            var body = new string('m', ImapCommandReader.InMemoryLiteralLimit + 1);
            var read = Read(limits);
            await Send($"a5 APPEND INBOX {{{body.Length}+}}\r\n" + body + "\r\n");
            var command = (await read.WaitAsync(Wait)).Command!;
            var literal = command.Literals.Single();
            Assert.Multiple(() =>
            {
                Assert.That(literal.Data, Is.Null);
                Assert.That(Path.GetDirectoryName(literal.FilePath), Is.EqualTo(directory));
                Assert.That(File.ReadAllText(literal.FilePath!), Is.EqualTo(body));
            });
            command.Dispose();
            Assert.That(Directory.GetFiles(directory), Is.Empty);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private Task<ImapFrame> Read(ImapReadLimits limits) =>
        _reader.ReadAsync(_input.Reader, _output.Writer, limits, CancellationToken.None);

    private async Task Send(string text) => await _input.Writer.WriteAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Everything written and flushed so far, without waiting.</summary>
    private string Output()
    {
        if (!_output.Reader.TryRead(out var result))
        {
            return "";
        }
        var text = Encoding.ASCII.GetString(result.Buffer);
        _output.Reader.AdvanceTo(result.Buffer.End);
        return text;
    }

    /// <summary>The next bytes written, waiting for them.</summary>
    private async Task<string> NextOutput()
    {
        var result = await _output.Reader.ReadAsync().AsTask().WaitAsync(Wait);
        var text = Encoding.ASCII.GetString(result.Buffer);
        _output.Reader.AdvanceTo(result.Buffer.End);
        return text;
    }

    private static List<string> Words(ImapCommandText command)
    {
        var reader = new ImapReader(command);
        var words = new List<string> { reader.ReadTag() };
        while (reader.TryConsume(' '))
        {
            words.Add(reader.ReadAString());
        }
        reader.ExpectEnd();
        return words;
    }
}
