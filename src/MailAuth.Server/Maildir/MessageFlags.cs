using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>The IMAP system flags that Maildir keeps in a file name's info (<c>:2,FRS</c>).</summary>
[Flags]
internal enum MessageFlags
{
    None = 0,
    Answered = 1,
    Flagged = 2,
    Deleted = 4,
    Seen = 8,
    Draft = 16,
}

internal static class MaildirFlags
{
    /// <summary>The system flags every selected folder offers; its keywords follow them (FLAGS, PERMANENTFLAGS).</summary>
    public const string ImapFlagList = @"\Answered \Flagged \Deleted \Seen \Draft";

    /// <summary>The info letters we do not map, each once, in ASCII order: equal sets compare equal.</summary>
    public static string Canonical(string otherLetters) => new([.. otherLetters.Distinct().Order()]);

    /// <summary>FLAGS as FETCH shows them: system flags, then the message's keywords by name (RFC 3501 §2.3.2).</summary>
    public static string ToImap(MaildirMessage message, KeywordMap keywords, bool recent)
    {
        var system = ToImap(message.Flags, recent);
        var names = string.Join(' ', keywords.NamesOf(message.OtherLetters));
        return names.Length == 0 ? system : system.Length == 2 ? $"({names})" : $"{system[..^1]} {names})";
    }

    /// <summary>
    /// The info letters in ASCII order as the Maildir specification requires: D(raft) F(lagged)
    /// R(eplied) S(een) T(rashed). Letters we do not map (P, lower-case keywords) are kept as they are.
    /// </summary>
    public static string ToInfo(MessageFlags flags, string otherLetters)
    {
        var letters = new List<char>(otherLetters);
        if (flags.HasFlag(MessageFlags.Draft))
        {
            letters.Add('D');
        }
        if (flags.HasFlag(MessageFlags.Flagged))
        {
            letters.Add('F');
        }
        if (flags.HasFlag(MessageFlags.Answered))
        {
            letters.Add('R');
        }
        if (flags.HasFlag(MessageFlags.Seen))
        {
            letters.Add('S');
        }
        if (flags.HasFlag(MessageFlags.Deleted))
        {
            letters.Add('T');
        }
        letters.Sort();
        return ":2," + new string([.. letters.Distinct()]);
    }

    /// <summary>Splits a file name in cur/ into base name, flags and the letters we do not map.</summary>
    public static (string BaseName, MessageFlags Flags, string OtherLetters) Parse(string fileName)
    {
        var info = fileName.IndexOf(":2,", StringComparison.Ordinal);
        if (info < 0)
        {
            var colon = fileName.IndexOf(':', StringComparison.Ordinal);
            return (colon < 0 ? fileName : fileName[..colon], MessageFlags.None, "");
        }
        var flags = MessageFlags.None;
        var other = new StringBuilder();
        foreach (var letter in fileName[(info + 3)..])
        {
            switch (letter)
            {
                case 'D': flags |= MessageFlags.Draft; break;
                case 'F': flags |= MessageFlags.Flagged; break;
                case 'R': flags |= MessageFlags.Answered; break;
                case 'S': flags |= MessageFlags.Seen; break;
                case 'T': flags |= MessageFlags.Deleted; break;
                default: other.Append(letter); break;
            }
        }
        return (fileName[..info], flags, other.ToString());
    }

    public static string ToImap(MessageFlags flags, bool recent)
    {
        var names = new List<string>();
        if (flags.HasFlag(MessageFlags.Answered))
        {
            names.Add(@"\Answered");
        }
        if (flags.HasFlag(MessageFlags.Flagged))
        {
            names.Add(@"\Flagged");
        }
        if (flags.HasFlag(MessageFlags.Deleted))
        {
            names.Add(@"\Deleted");
        }
        if (flags.HasFlag(MessageFlags.Seen))
        {
            names.Add(@"\Seen");
        }
        if (flags.HasFlag(MessageFlags.Draft))
        {
            names.Add(@"\Draft");
        }
        if (recent)
        {
            names.Add(@"\Recent");
        }
        return "(" + string.Join(' ', names) + ")";
    }

    /// <summary>The system flag an IMAP flag name means; None for keywords and \Recent, which we do not store.</summary>
    public static MessageFlags FromImap(string name) => name.ToUpperInvariant() switch
    {
        @"\ANSWERED" => MessageFlags.Answered,
        @"\FLAGGED" => MessageFlags.Flagged,
        @"\DELETED" => MessageFlags.Deleted,
        @"\SEEN" => MessageFlags.Seen,
        @"\DRAFT" => MessageFlags.Draft,
        _ => MessageFlags.None,
    };
}

internal enum FlagOperation
{
    Replace,
    Add,
    Remove,
}

/// <summary>What one STORE does (RFC 3501 §6.4.6): FLAGS, +FLAGS or -FLAGS with system flags and keyword names.</summary>
internal sealed record FlagChange(FlagOperation Operation, MessageFlags Flags, IReadOnlyList<string> Keywords)
{
    /// <summary>The new system flags and other info letters, given the letters of <see cref="Keywords"/> in this folder.</summary>
    public (MessageFlags Flags, string Other) Apply(MessageFlags flags, string otherLetters, string keywordLetters) => Operation switch
    {
        FlagOperation.Replace => (Flags, new string([.. otherLetters.Where(c => !KeywordMap.IsKeywordLetter(c))]) + keywordLetters),
        FlagOperation.Add => (flags | Flags, otherLetters + keywordLetters),
        _ => (flags & ~Flags, new string([.. otherLetters.Where(c => !keywordLetters.Contains(c, StringComparison.Ordinal))])),
    };
}
