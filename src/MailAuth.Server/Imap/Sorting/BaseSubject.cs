using System.Text;
using MailAuth.Server.Imap.Mime;

namespace MailAuth.Server.Imap.Sorting;

/// <summary>
/// The base subject of RFC 5256 §2.1: the subject with encoded-words decoded, whitespace
/// collapsed, and the reply and forward markers (<c>Re:</c>, <c>Fwd:</c>, <c>[list]</c> blobs,
/// <c>(fwd)</c>, <c>[fwd: …]</c>) taken off, upper-cased (i;ascii-casemap, §3) for comparison.
/// </summary>
internal static class BaseSubject
{
    /// <summary>The base subject of a raw (Latin-1, as read) Subject value, and whether it was a reply or forward (§2.1 and §2.2 step 5).</summary>
    public static (string Subject, bool IsReplyOrForward) FromHeader(string? rawSubject) =>
        rawSubject is null ? ("", false) : Extract(MessageFormatter.SearchableText(rawSubject));

    /// <summary>§2.1 on decoded text.</summary>
    public static (string Subject, bool IsReplyOrForward) Extract(string decoded)
    {
        // (1) tabs and continuations become a space; runs of spaces become one.
        var text = CollapseWhitespace(decoded);
        var replyOrForward = false;
        while (true)
        {
            // (2) trailers: "(fwd)" and white space at the end, as often as they come.
            while (true)
            {
                if (text.EndsWith(' '))
                {
                    text = text[..^1];
                }
                else if (text.EndsWith("(fwd)", StringComparison.OrdinalIgnoreCase))
                {
                    text = text[..^5];
                    replyOrForward = true;
                }
                else
                {
                    break;
                }
            }
            // (3)-(5) leaders and blobs, until neither matches.
            while (true)
            {
                if (text.StartsWith(' '))
                {
                    text = text[1..];
                    continue;
                }
                if (LeaderLength(text) is var leader and > 0)
                {
                    text = text[leader..];
                    replyOrForward = true;
                    continue;
                }
                // (4) a leading blob goes when something is left after it.
                if (BlobLength(text, 0) is var blob and > 0 && blob < text.Length)
                {
                    text = text[blob..];
                    continue;
                }
                break;
            }
            // (6) "[fwd: …]" around the whole subject: unwrap and start again at (2).
            if (text.StartsWith("[fwd:", StringComparison.OrdinalIgnoreCase) && text.EndsWith(']'))
            {
                text = text[5..^1];
                replyOrForward = true;
                continue;
            }
            return (CaseMap(text), replyOrForward);
        }
    }

    /// <summary>i;ascii-casemap (RFC 4790 §9.2): ASCII letters upper-cased, everything else as it is.</summary>
    public static string CaseMap(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c is >= 'a' and <= 'z' ? (char)(c - 32) : c);
        }
        return builder.ToString();
    }

    private static string CollapseWhitespace(string text)
    {
        var builder = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                space = true;
                continue;
            }
            if (space)
            {
                builder.Append(' ');
            }
            space = false;
            builder.Append(c);
        }
        if (space)
        {
            builder.Append(' ');
        }
        return builder.ToString();
    }

    /// <summary>
    /// subj-leader's first form, <c>*subj-blob subj-refwd</c>, where subj-refwd is
    /// <c>("re" / ("fw" ["d"])) *WSP [subj-blob] ":"</c>; 0 when the text does not start with one.
    /// </summary>
    private static int LeaderLength(string text)
    {
        var position = 0;
        while (BlobLength(text, position) is var blob and > 0)
        {
            position += blob;
        }
        if (StartsWithAt(text, position, "re"))
        {
            position += 2;
        }
        else if (StartsWithAt(text, position, "fwd"))
        {
            position += 3;
        }
        else if (StartsWithAt(text, position, "fw"))
        {
            position += 2;
        }
        else
        {
            return 0;
        }
        while (position < text.Length && text[position] == ' ')
        {
            position++;
        }
        position += BlobLength(text, position);
        return position < text.Length && text[position] == ':' ? position + 1 : 0;
    }

    /// <summary>subj-blob at <paramref name="start"/>: <c>"[" *BLOBCHAR "]" *WSP</c>, BLOBCHAR being anything but brackets; 0 when none.</summary>
    private static int BlobLength(string text, int start)
    {
        if (start >= text.Length || text[start] != '[')
        {
            return 0;
        }
        var position = start + 1;
        while (position < text.Length && text[position] is not ('[' or ']'))
        {
            position++;
        }
        if (position >= text.Length || text[position] != ']')
        {
            return 0;
        }
        position++;
        while (position < text.Length && text[position] == ' ')
        {
            position++;
        }
        return position - start;
    }

    private static bool StartsWithAt(string text, int position, string word) =>
        string.Compare(text, position, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) == 0 && position + word.Length <= text.Length;
}
