namespace MailAuth.Server.Imap.Sorting;

/// <summary>The msg-ids (<c>&lt;left@right&gt;</c>, RFC 5322 §3.6.4) of Message-ID, References and In-Reply-To, brackets removed.</summary>
internal static class MessageIds
{
    /// <summary>Every valid msg-id in <paramref name="header"/>, in order; comments and other text between them are skipped.</summary>
    public static List<string> Parse(string? header)
    {
        var ids = new List<string>();
        if (header is null)
        {
            return ids;
        }
        var position = 0;
        while ((position = header.IndexOf('<', position)) >= 0)
        {
            var close = header.IndexOf('>', position + 1);
            if (close < 0)
            {
                break;
            }
            var id = header[(position + 1)..close];
            var at = id.IndexOf('@', StringComparison.Ordinal);
            if (at > 0 && at < id.Length - 1 && !id.Any(c => c is ' ' or '\t' or '<'))
            {
                ids.Add(id);
            }
            position = close + 1;
        }
        return ids;
    }

    /// <summary>The first valid msg-id, or null.</summary>
    public static string? First(string? header) => Parse(header) is [var first, ..] ? first : null;
}
