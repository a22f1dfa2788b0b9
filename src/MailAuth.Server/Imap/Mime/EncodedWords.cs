using System.Text;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Imap.Mime;

/// <summary>Decodes RFC 2047 encoded-words (<c>=?UTF-8?B?…?=</c>) so that SEARCH SUBJECT finds what the user sees.</summary>
internal static partial class EncodedWords
{
    public static string Decode(string text)
    {
        if (!text.Contains("=?", StringComparison.Ordinal))
        {
            return text;
        }
        // Whitespace between two adjacent encoded-words is not part of the text (RFC 2047 §6.2).
        text = BetweenWords().Replace(text, "?==?");
        return EncodedWord().Replace(text, match =>
        {
            try
            {
                var encoding = Encoding.GetEncoding(match.Groups["charset"].Value.Split('*')[0]);
                var payload = match.Groups["text"].Value;
                var bytes = match.Groups["encoding"].Value.Equals("B", StringComparison.OrdinalIgnoreCase)
                    ? Convert.FromBase64String(payload)
                    : QuotedPrintable(payload);
                return encoding.GetString(bytes);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                return match.Value;
            }
        });
    }

    private static byte[] QuotedPrintable(string text)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '_')
            {
                bytes.Add((byte)' ');
            }
            else if (text[i] == '=' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)text[i]);
            }
        }
        return [.. bytes];
    }

    [GeneratedRegex(@"\?=\s+=\?")]
    private static partial Regex BetweenWords();

    [GeneratedRegex(@"=\?(?<charset>[^?\s]+)\?(?<encoding>[BbQq])\?(?<text>[^?\s]*)\?=")]
    private static partial Regex EncodedWord();
}
