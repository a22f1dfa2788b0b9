using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Parsing;

/// <summary>
/// A LIST or LSUB mailbox pattern (RFC 3501 §6.3.8): <c>*</c> matches anything, <c>%</c> anything
/// but the hierarchy delimiter, any other character itself; the name INBOX matches case-insensitively.
/// The pattern runs as a set of positions advanced once per character of the name, so a match
/// costs at most name length × pattern length steps whatever the pattern: <c>*a*a*a…b</c> from a
/// client cannot make it backtrack, and nothing is compiled.
/// </summary>
internal sealed class ListPattern
{
    /// <summary>Longer patterns are refused: folder names have at most 200 characters, so such a pattern is never useful.</summary>
    public const int MaxLength = 1024;

    private readonly string _pattern;
    private bool[] _current;
    private bool[] _next;

    public ListPattern(string pattern)
    {
        _pattern = CollapseWildcards(pattern);
        _current = new bool[_pattern.Length + 1];
        _next = new bool[_pattern.Length + 1];
    }

    public bool Matches(string name)
    {
        var ignoreCase = name == MaildirStore.Inbox;
        Array.Clear(_current);
        _current[0] = true;
        SkipEmptyWildcards(_current);
        foreach (var c in name)
        {
            Array.Clear(_next);
            var alive = false;
            for (var i = 0; i < _pattern.Length; i++)
            {
                if (!_current[i])
                {
                    continue;
                }
                var p = _pattern[i];
                if (p == '*' || (p == '%' && c != MaildirStore.Delimiter))
                {
                    _next[i] = true; // the wildcard takes this character and may take more
                    alive = true;
                }
                else if (p == c || (ignoreCase && char.ToUpperInvariant(p) == c))
                {
                    _next[i + 1] = true;
                    alive = true;
                }
            }
            if (!alive)
            {
                return false;
            }
            SkipEmptyWildcards(_next);
            (_current, _next) = (_next, _current);
        }
        return _current[_pattern.Length];
    }

    /// <summary>A wildcard may match nothing: wherever one can start, the position after it can too.</summary>
    private void SkipEmptyWildcards(bool[] positions)
    {
        for (var i = 0; i < _pattern.Length; i++)
        {
            if (positions[i] && _pattern[i] is '*' or '%')
            {
                positions[i + 1] = true;
            }
        }
    }

    /// <summary>A run of wildcards means "*" if it holds one, else "%": fewer positions, same matches.</summary>
    private static string CollapseWildcards(string pattern)
    {
        var collapsed = new System.Text.StringBuilder(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] is not ('*' or '%'))
            {
                collapsed.Append(pattern[i]);
                continue;
            }
            var star = false;
            for (; i < pattern.Length && pattern[i] is '*' or '%'; i++)
            {
                star |= pattern[i] == '*';
            }
            i--;
            collapsed.Append(star ? '*' : '%');
        }
        return collapsed.ToString();
    }
}
