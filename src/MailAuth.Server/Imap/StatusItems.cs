using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>The STATUS data items (RFC 3501 §6.3.10), shared by STATUS, LIST-STATUS (RFC 5819) and NOTIFY (RFC 5465).</summary>
internal static class StatusItems
{
    private static readonly string[] Known = ["MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ"];

    /// <summary><c>"(" status-att *(SP status-att) ")"</c>; an unknown item is BAD.</summary>
    public static List<string> Read(ImapReader arguments)
    {
        arguments.Expect('(');
        var items = new List<string>();
        do
        {
            var item = arguments.ReadAtom().ToUpperInvariant();
            if (!Known.Contains(item))
            {
                throw new ImapSyntaxException($"unknown STATUS item '{ImapSession.Sanitize(item)}'");
            }
            if (!items.Contains(item))
            {
                items.Add(item);
            }
        }
        while (arguments.TryConsume(' '));
        arguments.Expect(')');
        return items;
    }

    /// <summary>The untagged <c>* STATUS name (...)</c> line of an existing folder.</summary>
    public static string Response(string name, MaildirFolder folder, IReadOnlyList<string> items)
    {
        var snapshot = folder.Synchronize();
        var values = items.Select(item => item switch
        {
            "MESSAGES" => $"MESSAGES {snapshot.Messages.Count}",
            "RECENT" => $"RECENT {folder.UnclaimedRecentCount}",
            "UIDNEXT" => $"UIDNEXT {snapshot.UidNext}",
            "UIDVALIDITY" => $"UIDVALIDITY {snapshot.UidValidity}",
            "HIGHESTMODSEQ" => $"HIGHESTMODSEQ {snapshot.HighestModSeq}", // RFC 7162 §3.1.6
            _ => $"UNSEEN {snapshot.Unseen}", // kept by the folder as it changes: no pass over the messages
        });
        return $"* STATUS {ImapFormat.AString(name)} ({string.Join(' ', values)})\r\n";
    }
}
