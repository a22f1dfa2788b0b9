namespace MailAuth.Core.Mailboxes;

/// <summary>
/// The name of a MailAuth node (<c>MailAuth:NodeName</c>, a mailbox's home node): 1 to 63 ASCII
/// letters, digits, <c>-</c>, <c>_</c> and <c>.</c>, starting with a letter or digit, kept in
/// lower case. Configuration keys are case-insensitive (<c>MailAuth:Nodes:NAME</c>), so names are too.
/// </summary>
public static class NodeName
{
    public const int MaxLength = 63;

    public static bool TryNormalize(string? name, out string normalized, out string error)
    {
        normalized = "";
        if (string.IsNullOrEmpty(name))
        {
            error = "a node name is empty";
            return false;
        }
        if (name.Length > MaxLength)
        {
            error = $"node name '{Printable(name)}' is longer than {MaxLength} characters";
            return false;
        }
        if (!char.IsAsciiLetterOrDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            error = $"node name '{Printable(name)}' must be ASCII letters, digits, '-', '_' and '.', starting with a letter or digit";
            return false;
        }
        normalized = name.ToLowerInvariant();
        error = "";
        return true;
    }

    /// <summary>The normalised name; <see cref="CredentialOperationException"/> for a malformed one.</summary>
    public static string Normalize(string name) =>
        TryNormalize(name, out var normalized, out var error) ? normalized : throw new CredentialOperationException(error);

    private static string Printable(string name) =>
        new([.. name.Take(MaxLength + 1).Select(c => char.IsControl(c) ? '?' : c)]);
}
