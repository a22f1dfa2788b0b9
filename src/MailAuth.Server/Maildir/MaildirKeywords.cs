using System.Globalization;
using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>
/// A folder's keyword names by Maildir info letter, as Dovecot keeps them: the file
/// <c>dovecot-keywords</c> holds lines <c>N name</c>, and keyword N is the letter 'a' + N in a
/// file name's info (<c>:2,Sa</c>). Immutable: defining a keyword makes a new map.
/// </summary>
internal sealed class KeywordMap
{
    public const int Capacity = 26;

    public static readonly KeywordMap Empty = new(new string?[Capacity]);

    private readonly string?[] _names;

    private KeywordMap(string?[] names) => _names = names;

    /// <summary>The defined keywords in letter order.</summary>
    public IEnumerable<string> Names => _names.OfType<string>();

    public bool IsFull => Array.IndexOf(_names, null) < 0;

    public int Count => _names.Count(n => n is not null);

    public static bool IsKeywordLetter(char letter) => letter is >= 'a' and <= 'z';

    public string? NameOf(char letter) => IsKeywordLetter(letter) ? _names[letter - 'a'] : null;

    /// <summary>The letter of a keyword, compared case-insensitively (RFC 3501 §2.3.2); null when not defined.</summary>
    public char? LetterOf(string name)
    {
        for (var i = 0; i < Capacity; i++)
        {
            if (string.Equals(_names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return (char)('a' + i);
            }
        }
        return null;
    }

    /// <summary>The map with <paramref name="name"/> given the first free letter; null when all 26 are taken.</summary>
    public KeywordMap? Define(string name)
    {
        var free = Array.IndexOf(_names, null);
        if (free < 0)
        {
            return null;
        }
        var names = (string?[])_names.Clone();
        names[free] = name;
        return new KeywordMap(names);
    }

    /// <summary>The keyword names the letters of a file name's info stand for, in letter order; undefined letters are skipped.</summary>
    public IEnumerable<string> NamesOf(string otherLetters) =>
        otherLetters.Where(IsKeywordLetter).Order().Select(NameOf).OfType<string>();

    /// <summary>Dovecot's format, lenient: lines that are not <c>N name</c> with N in 0..25 and an atom name are skipped.</summary>
    public static KeywordMap Parse(string text)
    {
        var names = new string?[Capacity];
        foreach (var line in text.Split('\n'))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var name = space < 0 ? "" : line[(space + 1)..].TrimEnd('\r');
            if (space > 0 && int.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && index < Capacity && IsKeyword(name) && names.All(n => !string.Equals(n, name, StringComparison.OrdinalIgnoreCase)))
            {
                names[index] = name;
            }
        }
        return new KeywordMap(names);
    }

    public string Format()
    {
        var builder = new StringBuilder();
        for (var i = 0; i < Capacity; i++)
        {
            if (_names[i] is { } name)
            {
                builder.Append(CultureInfo.InvariantCulture, $"{i} {name}\n");
            }
        }
        return builder.ToString();
    }

    /// <summary>flag-keyword (RFC 3501 §9): an atom, not a system flag.</summary>
    public static bool IsKeyword(string name) =>
        name.Length is > 0 and <= MaxKeywordLength && name.All(c => c is > ' ' and < '\x7f' and not ('(' or ')' or '{' or '%' or '*' or '"' or '\\' or ']'));

    /// <summary>Dovecot's limit too; a longer name is refused rather than stored.</summary>
    public const int MaxKeywordLength = 128;
}

/// <summary>Reads and writes a folder's <c>dovecot-keywords</c>; re-read only when the file changed on disk.</summary>
internal sealed class MaildirKeywordFile(string folderPath)
{
    public const string FileName = "dovecot-keywords";

    /// <summary>Larger files are not Dovecot's (26 short lines); they are read as far as this.</summary>
    private const int MaxFileSize = 64 * 1024;

    private readonly string _path = Path.Combine(folderPath, FileName);
    private (DateTime Written, long Length) _seen = (DateTime.MinValue, -1);

    public KeywordMap Map { get; private set; } = KeywordMap.Empty;

    /// <summary>Picks up a change made by another program (Dovecot, a second server); true when the map changed.</summary>
    public bool Reload()
    {
        var info = new FileInfo(_path);
        var state = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1L);
        if (state == _seen)
        {
            return false;
        }
        _seen = state;
        var previous = Map;
        if (!info.Exists)
        {
            Map = KeywordMap.Empty;
            return previous.Count > 0;
        }
        using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[Math.Min(file.Length, MaxFileSize)];
        file.ReadExactly(buffer);
        Map = KeywordMap.Parse(Encoding.UTF8.GetString(buffer));
        return Map.Format() != previous.Format();
    }

    /// <summary>
    /// Stores <paramref name="map"/> durably (temporary file, fsync, rename): it must be on disk
    /// before any file name uses a new letter, or a crash would leave letters without names.
    /// </summary>
    public void Save(KeywordMap map)
    {
        var temporary = _path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(map.Format()));
            DurableFile.FlushToDisk(file);
        }
        File.Move(temporary, _path, overwrite: true);
        MaildirDelivery.SyncDirectory(folderPath);
        Map = map;
        var info = new FileInfo(_path);
        _seen = (info.LastWriteTimeUtc, info.Length);
    }
}
