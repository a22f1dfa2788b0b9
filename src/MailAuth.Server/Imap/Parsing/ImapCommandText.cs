using System.Text;

namespace MailAuth.Server.Imap.Parsing;

/// <summary>
/// The bytes of a literal: small ones in memory, large ones (an APPEND message) in a temporary
/// file that the command may move into the Maildir.
/// </summary>
internal sealed class ImapLiteral : IDisposable
{
    private ImapLiteral(byte[]? data, string? filePath, long length)
    {
        Data = data;
        FilePath = filePath;
        Length = length;
    }

    public byte[]? Data { get; }

    /// <summary>Set when the literal was streamed to disk; deleted on dispose unless taken.</summary>
    public string? FilePath { get; private set; }

    public long Length { get; }

    /// <summary>Sent as a literal8 <c>~{n}</c> (RFC 3516): only APPEND accepts it.</summary>
    public bool Binary { get; set; }

    public static ImapLiteral InMemory(byte[] data) => new(data, null, data.Length);

    public static ImapLiteral InFile(string path, long length) => new(null, path, length);

    /// <summary>The literal as text (UTF-8), for LOGIN arguments, mailbox names and search strings.</summary>
    public string Text => Data is not null
        ? Encoding.UTF8.GetString(Data)
        : throw new ImapSyntaxException("a string argument is too large");

    /// <summary>Hands the file over to the caller (who moves it); it is then no longer deleted here.</summary>
    public string TakeFile()
    {
        var path = FilePath ?? throw new InvalidOperationException("literal is in memory");
        FilePath = null;
        return path;
    }

    public void Dispose()
    {
        if (FilePath is not null)
        {
            File.Delete(FilePath);
            FilePath = null;
        }
    }
}

/// <summary>
/// A whole command as received: the line parts and the literals between them. Part <c>i</c> ends
/// with the literal announcement at <see cref="LiteralStarts"/><c>[i]</c> when <c>i</c> &lt;
/// <see cref="Literals"/>.Count; the literal's bytes come next, then part <c>i + 1</c>.
/// </summary>
internal sealed class ImapCommandText(IReadOnlyList<byte[]> parts, IReadOnlyList<int> literalStarts, IReadOnlyList<ImapLiteral> literals) : IDisposable
{
    public IReadOnlyList<byte[]> Parts { get; } = parts;

    public IReadOnlyList<int> LiteralStarts { get; } = literalStarts;

    public IReadOnlyList<ImapLiteral> Literals { get; } = literals;

    /// <summary>A command of one line without literals (tests, IDLE's DONE).</summary>
    public static ImapCommandText FromLine(string line) => new([Encoding.UTF8.GetBytes(line)], [], []);

    /// <summary>A command with in-memory literals: <c>"a LOGIN {4}", "user", " {2}", "pw", ""</c> alternate line parts and literal data.</summary>
    public static ImapCommandText FromPieces(params string[] pieces)
    {
        var parts = new List<byte[]>();
        var starts = new List<int>();
        var literals = new List<ImapLiteral>();
        for (var i = 0; i < pieces.Length; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(pieces[i]);
            if (i % 2 == 0)
            {
                parts.Add(bytes);
                if (i + 1 < pieces.Length)
                {
                    starts.Add(LiteralMarker.Find(bytes).Start);
                }
            }
            else
            {
                literals.Add(ImapLiteral.InMemory(bytes));
            }
        }
        return new ImapCommandText(parts, starts, literals);
    }

    public void Dispose()
    {
        foreach (var literal in Literals)
        {
            literal.Dispose();
        }
    }
}

/// <summary>A command's arguments do not follow the grammar; answered with a tagged BAD.</summary>
internal sealed class ImapSyntaxException(string message) : Exception(message);

/// <summary>A command runs into an implementation limit (RFC 5530 LIMIT); answered with a tagged NO [LIMIT].</summary>
internal sealed class ImapLimitException(string message) : Exception(message);
