using MailAuth.Server.Imap.Commands;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>One line of a LIST answer: the name, its attributes, and whether it carries CHILDINFO (RFC 5258 §3.5).</summary>
internal sealed record ListedMailbox(string Name, List<string> Attributes, IReadOnlyList<string> ChildInfo, bool Selectable);

/// <summary>
/// What a LIST (basic or extended) answers: the names any pattern matches among those the
/// selection options pick (RFC 5258 §3). Without SUBSCRIBED, the folders and the levels of the
/// hierarchy above them (\Noselect); with it, the subscribed names, folders or not
/// (\NonExistent). RECURSIVEMATCH adds a matching name one of whose descendants is picked but
/// not matched, with CHILDINFO naming the criteria.
/// </summary>
internal static class MailboxListing
{
    public static List<ListedMailbox> Run(MaildirStore store, ListRequest request)
    {
        var folders = store.List().ToDictionary(f => f.Name, StringComparer.Ordinal);
        var subscriptions = request.Selection.HasFlag(ListSelection.Subscribed) || request.Return.HasFlag(ListReturn.Subscribed)
            ? store.Subscriptions()
            : [];
        var patterns = request.Patterns.Select(p => new ListPattern(request.Reference + p)).ToList();
        bool Matches(string name) => patterns.Any(p => p.Matches(name));
        bool Picked(string name) =>
            (request.Selection.HasFlag(ListSelection.Subscribed) ? subscriptions.Contains(name) : folders.ContainsKey(name))
            && (!request.Selection.HasFlag(ListSelection.SpecialUse) || folders.GetValueOrDefault(name)?.SpecialUse is not null);

        var names = new SortedSet<string>(folders.Keys, FolderOrder.Instance);
        if (request.Selection.HasFlag(ListSelection.Subscribed))
        {
            names.UnionWith(subscriptions.Where(MaildirStore.IsValid));
        }
        var childInfo = new HashSet<string>(StringComparer.Ordinal);
        if (request.Selection.HasFlag(ListSelection.RecursiveMatch))
        {
            foreach (var name in names.Where(n => Picked(n) && !Matches(n)).ToList())
            {
                foreach (var parent in ListCommand.Ancestors(name).Where(Matches))
                {
                    childInfo.Add(parent);
                    names.Add(parent);
                }
            }
        }
        var criteria = CriteriaNames(request.Selection);
        var listed = new List<ListedMailbox>();
        foreach (var name in names)
        {
            var picked = Matches(name) && Picked(name);
            if (!picked && !childInfo.Contains(name))
            {
                continue;
            }
            var folder = folders.GetValueOrDefault(name);
            var attributes = folder is null ? [@"\NonExistent"] : ListCommand.Attributes(folder);
            if (request.Return.HasFlag(ListReturn.Subscribed) && subscriptions.Contains(name))
            {
                attributes.Add(@"\Subscribed");
            }
            // RFC 5819 §3: STATUS only for a mailbox the criteria picked, and only one that can be selected.
            listed.Add(new ListedMailbox(name, attributes, childInfo.Contains(name) ? criteria : [], picked && folder is { Selectable: true }));
        }
        return listed;
    }

    private static List<string> CriteriaNames(ListSelection selection)
    {
        var names = new List<string>();
        if (selection.HasFlag(ListSelection.Subscribed))
        {
            names.Add("SUBSCRIBED");
        }
        if (selection.HasFlag(ListSelection.SpecialUse))
        {
            names.Add("SPECIAL-USE");
        }
        return names;
    }
}
