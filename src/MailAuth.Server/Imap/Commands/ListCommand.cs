using System.Text;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// LIST and LSUB (§6.3.8, §6.3.9) with CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes;
/// LIST in its extended form too (LIST-EXTENDED, RFC 5258; LIST-STATUS, RFC 5819).
/// </summary>
internal sealed class ListCommand(bool subscribedOnly) : IImapCommand
{
    public string Name => subscribedOnly ? "LSUB" : "LIST";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        var store = session.RequireStore();
        var output = new StringBuilder();
        if (subscribedOnly)
        {
            arguments.ExpectSpace();
            var reference = arguments.ReadAString();
            arguments.ExpectSpace();
            var pattern = arguments.ReadListMailbox();
            arguments.ExpectEnd();
            if (reference.Length + pattern.Length > ListPattern.MaxLength)
            {
                throw new ImapSyntaxException($"reference and mailbox pattern longer than {ListPattern.MaxLength} characters together");
            }
            WriteSubscribed(store, reference + pattern, output);
        }
        else
        {
            var request = ListArguments.Parse(arguments);
            if (request is { Selection: ListSelection.None, Patterns: [""] })
            {
                // LIST "" "": the hierarchy delimiter and root (§6.3.8).
                output.Append($"* LIST (\\Noselect) \"{MaildirStore.Delimiter}\" \"\"\r\n");
            }
            else
            {
                WriteListed(store, request, output);
            }
        }
        session.Write(output.ToString());
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }

    private static void WriteListed(MaildirStore store, ListRequest request, StringBuilder output)
    {
        foreach (var mailbox in MailboxListing.Run(store, request))
        {
            output.Append($"* LIST ({string.Join(' ', mailbox.Attributes)}) \"{MaildirStore.Delimiter}\" {ImapFormat.AString(mailbox.Name)}");
            if (mailbox.ChildInfo.Count > 0)
            {
                output.Append($" (\"CHILDINFO\" ({string.Join(' ', mailbox.ChildInfo.Select(c => $"\"{c}\""))}))");
            }
            output.Append("\r\n");
            if (request.Return.HasFlag(ListReturn.Status) && mailbox.Selectable && store.Open(mailbox.Name) is { } folder)
            {
                output.Append(StatusItems.Response(mailbox.Name, folder, request.StatusItems));
            }
        }
    }

    /// <summary>The matcher of a LIST or LSUB pattern (<see cref="ListPattern"/>).</summary>
    public static Func<string, bool> Matcher(string pattern) => new ListPattern(pattern).Matches;

    /// <summary>
    /// LSUB: the subscribed names the pattern matches, folders or not (§6.3.9: a subscription
    /// outlives its folder). A subscribed name that "%" keeps out only because it stops at the
    /// hierarchy delimiter ("a.b" for the pattern "%") shows its matching parent ("a") instead,
    /// flagged \Noselect, unless that parent is subscribed itself.
    /// </summary>
    private void WriteSubscribed(MaildirStore store, string patternText, StringBuilder output)
    {
        var pattern = new ListPattern(patternText);
        var acrossLevels = new ListPattern(patternText.Replace('%', '*'));
        var subscriptions = store.Subscriptions();
        var folders = store.List().ToDictionary(f => f.Name, StringComparer.Ordinal);
        var listed = new SortedDictionary<string, List<string>>(FolderOrder.Instance);
        foreach (var name in subscriptions.Where(MaildirStore.IsValid))
        {
            if (pattern.Matches(name))
            {
                listed[name] = folders.TryGetValue(name, out var folder) ? Attributes(folder) : [@"\Noselect"];
                continue;
            }
            if (!acrossLevels.Matches(name))
            {
                continue;
            }
            foreach (var parent in Ancestors(name))
            {
                if (!subscriptions.Contains(parent) && pattern.Matches(parent))
                {
                    listed[parent] = [@"\Noselect"];
                }
            }
        }
        foreach (var (name, attributes) in listed)
        {
            WriteLine(output, Name, name, attributes);
        }
    }

    /// <summary>The attributes LIST shows for an existing folder or a parent that is only a level of the hierarchy.</summary>
    public static List<string> Attributes(FolderInfo folder)
    {
        var attributes = new List<string>();
        if (!folder.Selectable)
        {
            attributes.Add(@"\Noselect");
        }
        attributes.Add(folder.HasChildren ? @"\HasChildren" : @"\HasNoChildren");
        if (folder.SpecialUse is { } use)
        {
            attributes.Add(use);
        }
        return attributes;
    }

    /// <summary>"a", "a.b" for "a.b.c".</summary>
    public static IEnumerable<string> Ancestors(string name)
    {
        for (var i = name.IndexOf(MaildirStore.Delimiter); i > 0; i = name.IndexOf(MaildirStore.Delimiter, i + 1))
        {
            yield return name[..i];
        }
    }

    private static void WriteLine(StringBuilder output, string verb, string name, IEnumerable<string> attributes) =>
        output.Append($"* {verb} ({string.Join(' ', attributes)}) \"{MaildirStore.Delimiter}\" {ImapFormat.AString(name)}\r\n");
}
