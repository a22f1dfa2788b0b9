using System.Text;
using MimeKit;

namespace MailAuth.Server.Imap;

/// <summary>
/// Finds which of a SEARCH command's BODY/TEXT strings occur in a message's body as its reader sees
/// it (RFC 3501 §6.4.4: substring, case-insensitive): every text part with its transfer encoding
/// (quoted-printable, base64) and charset decoded, and the header and parts of attached messages.
/// Non-text parts (images, archives) are not text and are skipped.
/// </summary>
/// <remarks>
/// Memory stays bounded whatever the message's size: MimeKit parses the file stream with
/// persistent = true, so part contents are not copied but read back from the file through the
/// decoder in chunks; only headers and one chunk (plus the longest string's overlap) are held.
/// MimeKit is used here only; FETCH keeps Imap/Mime, which is faster and keeps byte offsets.
/// </remarks>
internal sealed class BodyTextSearch
{
    private const int ChunkChars = 64 * 1024;

    /// <summary>Same bound as Imap/Mime's parser: a hostile message cannot nest parts without end.</summary>
    private static readonly ParserOptions Options = new() { MaxMimeDepth = 32 };

    private readonly IReadOnlyList<string> _folded;
    private readonly bool[] _found;
    private readonly SearchBudget _budget;
    private readonly char[] _raw = new char[ChunkChars];
    private readonly char[] _window;
    private readonly int _overlap;
    private int _remaining;

    private BodyTextSearch(IReadOnlyList<string> folded, SearchBudget budget)
    {
        _folded = folded;
        _budget = budget;
        _found = [.. folded.Select(f => f.Length == 0)];
        _remaining = _found.Count(found => !found);
        _overlap = Math.Max(0, folded.Select(f => f.Length).DefaultIfEmpty(0).Max() - 1);
        _window = new char[_overlap + ChunkChars];
    }

    /// <summary>
    /// The strings of <paramref name="folded"/> (upper-cased invariantly) found in the body of the
    /// message stored at <paramref name="path"/>; none when the file is gone or is no message.
    /// </summary>
    public static HashSet<string> Find(string path, IReadOnlyList<string> folded, SearchBudget budget)
    {
        var search = new BodyTextSearch(folded, budget);
        if (search._remaining > 0)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 64 * 1024);
                var message = new MimeParser(Options, stream, persistent: true).ParseMessage();
                search.Search(message.Body);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or FormatException)
            {
                // Expunged meanwhile, or not a message at all: nothing is found in it.
            }
        }
        return [.. folded.Where((_, i) => search._found[i])];
    }

    private void Search(MimeEntity? entity)
    {
        switch (entity)
        {
            case Multipart multipart:
                foreach (var part in multipart)
                {
                    if (_remaining == 0)
                    {
                        return;
                    }
                    Search(part);
                }
                break;
            case MessagePart { Message: { } attached }:
                // An attached message's header is part of the enclosing body (RFC 3501 §6.4.4 BODY).
                foreach (var header in attached.Headers)
                {
                    Search(new StringReader(header.Field + ": " + header.Value));
                }
                Search(attached.Body);
                break;
            case MimePart { Content: { } content } part when part.ContentType.IsMimeType("text", "*"):
                using (var decoded = content.Open())
                using (var reader = new StreamReader(decoded, TextEncoding(part.ContentType), detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024))
                {
                    Search(reader);
                }
                break;
        }
    }

    /// <summary>
    /// The part's charset; UTF-8 when it names none or an unknown one, and for US-ASCII too, which
    /// mailers put on UTF-8 text and which UTF-8 reads the same when it is true.
    /// </summary>
    private static Encoding TextEncoding(ContentType type) =>
        type.CharsetEncoding is { } encoding && encoding.CodePage != Encoding.ASCII.CodePage ? encoding : Encoding.UTF8;

    /// <summary>Looks for the strings not found yet in one text, chunk by chunk; a match may span two chunks, not two parts.</summary>
    private void Search(TextReader reader)
    {
        var carried = 0;
        int read;
        while (_remaining > 0 && (read = reader.Read(_raw, 0, ChunkChars)) > 0)
        {
            _budget.Check();
            _raw.AsSpan(0, read).ToUpperInvariant(_window.AsSpan(carried, read));
            var window = _window.AsSpan(0, carried + read);
            for (var i = 0; i < _folded.Count; i++)
            {
                if (!_found[i] && window.IndexOf(_folded[i].AsSpan(), StringComparison.Ordinal) >= 0)
                {
                    _found[i] = true;
                    _remaining--;
                }
            }
            carried = Math.Min(_overlap, window.Length);
            window[^carried..].CopyTo(_window);
        }
    }
}
